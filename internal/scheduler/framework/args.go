package framework

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// DecodeArgs decodes a plugin's pluginConfig args strictly into out;
// nil or empty args leave out as given (the plugin's defaults).
func DecodeArgs(raw json.RawMessage, out any) error {
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return nil
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	if err := d.Decode(out); err != nil {
		return fmt.Errorf("decoding args: %w", err)
	}
	return nil
}
