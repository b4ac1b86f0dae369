package pki

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
)

const tokenBytes = 32

// EnsureToken returns the cluster join token stored in <dir>/token, creating
// it (64 hex characters, 32 bytes of entropy, mode 0600) on first use. An
// operator-provided non-empty token in that file is respected as is.
func EnsureToken(dir string) (string, error) {
	path := filepath.Join(dir, "token")
	b, err := readOptional(path)
	if err != nil {
		return "", err
	}
	if tok := strings.TrimSpace(string(b)); tok != "" {
		return tok, nil
	}
	raw := make([]byte, tokenBytes)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("generate token: %w", err)
	}
	tok := hex.EncodeToString(raw)
	if err := writeFileAtomic(path, []byte(tok+"\n"), keyMode); err != nil {
		return "", fmt.Errorf("store token: %w", err)
	}
	return tok, nil
}
