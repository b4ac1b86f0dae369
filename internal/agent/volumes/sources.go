package volumes

import (
	"fmt"
	"io/fs"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/navarch/navarch/internal/agent/fieldpath"
)

// Status is what downwardAPI items may need from the node.
type Status = fieldpath.Status

func (m *Manager) configMapFiles(ns, name string, items []corev1.KeyToPath, optional *bool, def fs.FileMode) (map[string]File, error) {
	cm, err := m.Get.ConfigMap(ns, name)
	if apierrors.IsNotFound(err) && optional != nil && *optional {
		return map[string]File{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("configmap %q not found", name)
	}
	data := map[string][]byte{}
	for k, v := range cm.Data {
		data[k] = []byte(v)
	}
	for k, v := range cm.BinaryData {
		data[k] = v
	}
	return project(data, items, def, optional, "configmap", name)
}

func (m *Manager) secretFiles(ns, name string, items []corev1.KeyToPath, optional *bool, def fs.FileMode) (map[string]File, error) {
	s, err := m.Get.Secret(ns, name)
	if apierrors.IsNotFound(err) && optional != nil && *optional {
		return map[string]File{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("secret %q not found", name)
	}
	return project(s.Data, items, def, optional, "secret", name)
}

// project picks items (all keys when none) with their modes.
func project(data map[string][]byte, items []corev1.KeyToPath, def fs.FileMode, optional *bool, kind, name string) (map[string]File, error) {
	out := map[string]File{}
	if len(items) == 0 {
		for k, v := range data {
			out[k] = File{Data: v, Mode: def}
		}
		return out, nil
	}
	for _, it := range items {
		v, ok := data[it.Key]
		if !ok {
			if optional != nil && *optional {
				continue
			}
			return nil, fmt.Errorf("configuration error: key %q not found in %s %q", it.Key, kind, name)
		}
		mode := def
		if it.Mode != nil {
			mode = fs.FileMode(*it.Mode) & fs.ModePerm
		}
		out[it.Path] = File{Data: v, Mode: mode}
	}
	return out, nil
}

func (m *Manager) downwardFiles(pod *corev1.Pod, items []corev1.DownwardAPIVolumeFile, def fs.FileMode, st Status) (map[string]File, error) {
	out := map[string]File{}
	for _, it := range items {
		var v string
		var err error
		switch {
		case it.FieldRef != nil:
			v, err = fieldpath.Field(pod, it.FieldRef.FieldPath, st, false)
		case it.ResourceFieldRef != nil:
			v, err = fieldpath.Resource(pod, "", it.ResourceFieldRef, m.Allocatable)
		default:
			err = fmt.Errorf("downwardAPI item %q has no source", it.Path)
		}
		if err != nil {
			return nil, err
		}
		mode := def
		if it.Mode != nil {
			mode = fs.FileMode(*it.Mode) & fs.ModePerm
		}
		out[it.Path] = File{Data: []byte(v), Mode: mode}
	}
	return out, nil
}

func (m *Manager) projectedFiles(pod *corev1.Pod, p *corev1.ProjectedVolumeSource, st Status) (map[string]File, error) {
	def := mode(p.DefaultMode)
	out := map[string]File{}
	merge := func(files map[string]File, err error) error {
		if err != nil {
			return err
		}
		for k, v := range files {
			out[k] = v
		}
		return nil
	}
	for _, src := range p.Sources {
		var err error
		switch {
		case src.ConfigMap != nil:
			err = merge(m.configMapFiles(pod.Namespace, src.ConfigMap.Name, src.ConfigMap.Items, src.ConfigMap.Optional, def))
		case src.Secret != nil:
			err = merge(m.secretFiles(pod.Namespace, src.Secret.Name, src.Secret.Items, src.Secret.Optional, def))
		case src.DownwardAPI != nil:
			err = merge(m.downwardFiles(pod, src.DownwardAPI.Items, def, st))
		case src.ServiceAccountToken != nil:
			tok, terr := m.Get.Token(pod, src.ServiceAccountToken)
			if terr != nil {
				return nil, fmt.Errorf("failed to fetch token: %w", terr)
			}
			out[src.ServiceAccountToken.Path] = File{Data: []byte(tok), Mode: def}
		default:
			err = fmt.Errorf("projected volume source not supported on navarch nodes")
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
