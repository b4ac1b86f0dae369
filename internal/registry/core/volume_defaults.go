package core

import (
	corev1 "k8s.io/api/core/v1"
)

// defaultVolume applies the per-source volume defaults. A volume with no
// source at all becomes an emptyDir, as upstream does.
func defaultVolume(v *corev1.Volume) {
	if isEmptySource(&v.VolumeSource) {
		v.EmptyDir = &corev1.EmptyDirVolumeSource{}
	}
	defaultVolumeSource(&v.VolumeSource)
}

func isEmptySource(s *corev1.VolumeSource) bool {
	return countVolumeSources(s) == 0
}

func defaultVolumeSource(s *corev1.VolumeSource) {
	switch {
	case s.Secret != nil:
		if s.Secret.DefaultMode == nil {
			s.Secret.DefaultMode = ptr(defaultVolumeMode)
		}
	case s.ConfigMap != nil:
		if s.ConfigMap.DefaultMode == nil {
			s.ConfigMap.DefaultMode = ptr(defaultVolumeMode)
		}
	case s.DownwardAPI != nil:
		if s.DownwardAPI.DefaultMode == nil {
			s.DownwardAPI.DefaultMode = ptr(defaultVolumeMode)
		}
		for i := range s.DownwardAPI.Items {
			defaultFieldRef(s.DownwardAPI.Items[i].FieldRef)
		}
	case s.Projected != nil:
		defaultProjected(s.Projected)
	case s.HostPath != nil:
		if s.HostPath.Type == nil {
			s.HostPath.Type = ptr(corev1.HostPathUnset)
		}
	default:
		defaultLegacyVolumeSource(s)
	}
}

func defaultFieldRef(f *corev1.ObjectFieldSelector) {
	if f != nil && f.APIVersion == "" {
		f.APIVersion = "v1"
	}
}

func defaultProjected(p *corev1.ProjectedVolumeSource) {
	if p.DefaultMode == nil {
		p.DefaultMode = ptr(defaultVolumeMode)
	}
	for i := range p.Sources {
		src := &p.Sources[i]
		if src.ServiceAccountToken != nil && src.ServiceAccountToken.ExpirationSeconds == nil {
			src.ServiceAccountToken.ExpirationSeconds = ptr(int64(3600))
		}
		if src.DownwardAPI != nil {
			for j := range src.DownwardAPI.Items {
				defaultFieldRef(src.DownwardAPI.Items[j].FieldRef)
			}
		}
	}
}

// defaultLegacyVolumeSource covers the in-tree storage plugins that still
// carry defaults in the v1 API.
func defaultLegacyVolumeSource(s *corev1.VolumeSource) {
	switch {
	case s.ISCSI != nil:
		if s.ISCSI.ISCSIInterface == "" {
			s.ISCSI.ISCSIInterface = "default"
		}
	case s.RBD != nil:
		defaultRBD(&s.RBD.RBDPool, &s.RBD.RadosUser, &s.RBD.Keyring)
	case s.AzureDisk != nil:
		defaultAzureDisk(s.AzureDisk)
	case s.ScaleIO != nil:
		if s.ScaleIO.StorageMode == "" {
			s.ScaleIO.StorageMode = "ThinProvisioned"
		}
		if s.ScaleIO.FSType == "" {
			s.ScaleIO.FSType = "xfs"
		}
	}
}

func defaultRBD(pool, user, keyring *string) {
	if *pool == "" {
		*pool = "rbd"
	}
	if *user == "" {
		*user = "admin"
	}
	if *keyring == "" {
		*keyring = "/etc/ceph/keyring"
	}
}

func defaultAzureDisk(a *corev1.AzureDiskVolumeSource) {
	if a.CachingMode == nil {
		a.CachingMode = ptr(corev1.AzureDataDiskCachingReadWrite)
	}
	if a.Kind == nil {
		a.Kind = ptr(corev1.AzureSharedBlobDisk)
	}
	if a.FSType == nil {
		a.FSType = ptr("ext4")
	}
	if a.ReadOnly == nil {
		a.ReadOnly = ptr(false)
	}
}

// countVolumeSources counts the non-nil members of a VolumeSource; exactly
// one is allowed.
func countVolumeSources(s *corev1.VolumeSource) int {
	n := 0
	for _, set := range []bool{
		s.HostPath != nil, s.EmptyDir != nil, s.GCEPersistentDisk != nil,
		s.AWSElasticBlockStore != nil, s.GitRepo != nil, s.Secret != nil,
		s.NFS != nil, s.ISCSI != nil, s.Glusterfs != nil,
		s.PersistentVolumeClaim != nil, s.RBD != nil, s.FlexVolume != nil,
		s.Cinder != nil, s.CephFS != nil, s.Flocker != nil,
		s.DownwardAPI != nil, s.FC != nil, s.AzureFile != nil,
		s.ConfigMap != nil, s.VsphereVolume != nil, s.Quobyte != nil,
		s.AzureDisk != nil, s.PhotonPersistentDisk != nil, s.Projected != nil,
		s.PortworxVolume != nil, s.ScaleIO != nil, s.StorageOS != nil,
		s.CSI != nil, s.Ephemeral != nil, s.Image != nil,
	} {
		if set {
			n++
		}
	}
	return n
}
