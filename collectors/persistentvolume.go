package collectors

import (
	"strconv"
	"strings"

	v1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// persistentVolumeResource is the persistentvolumes resource.
func persistentVolumeResource() Resource {
	return &resource[*v1.PersistentVolume]{
		name:      "persistentvolumes",
		newObject: func() *v1.PersistentVolume { return &v1.PersistentVolume{} },
		listWatch: func(c kubernetes.Interface, _ string) *cache.ListWatch {
			return newListWatch(c.CoreV1().PersistentVolumes().List, c.CoreV1().PersistentVolumes().Watch)
		},
		objectLabels: func(p *v1.PersistentVolume) []Label {
			return []Label{{Name: "persistentvolume", Value: p.Name}}
		},
		families: persistentVolumeFamilies,
	}
}

// persistentVolumePhases are the series of kube_persistentvolume_status_phase, in KSM's order.
var persistentVolumePhases = []v1.PersistentVolumePhase{
	v1.VolumePending, v1.VolumeAvailable, v1.VolumeBound, v1.VolumeReleased, v1.VolumeFailed,
}

// phaseMetrics is KSM's phase state set, shared by persistent volumes and claims:
// one series per known phase, 1 for the current one and 0 for the others, and no
// series at all while the phase is unset.
func phaseMetrics[S ~string](current S, phases []S) []Metric {
	if current == "" {
		return nil
	}
	out := make([]Metric, len(phases))
	for i, p := range phases {
		out[i] = m(boolFloat(p == current), "phase", string(p))
	}
	return out
}

// accessModeMetrics is one series per access mode, as both the persistent volume
// and the claim report them.
func accessModeMetrics(modes []v1.PersistentVolumeAccessMode) []Metric {
	out := make([]Metric, len(modes))
	for i, mode := range modes {
		out[i] = m(1, "access_mode", string(mode))
	}
	return out
}

// persistentVolumeInfoKeys are the labels of kube_persistentvolume_info. KSM
// writes every key for every volume; only those of the volume's own source
// have values.
var persistentVolumeInfoKeys = []string{
	"storageclass",
	"gce_persistent_disk_name",
	"ebs_volume_id",
	"azure_disk_name",
	"fc_wwids", "fc_lun", "fc_target_wwns",
	"iscsi_target_portal", "iscsi_iqn", "iscsi_lun", "iscsi_initiator_name",
	"nfs_server", "nfs_path",
	"csi_driver", "csi_volume_handle",
	"local_path", "local_fs",
	"host_path", "host_path_type",
	"reclaim_policy",
}

// persistentVolumeInfo fills the labels of the first volume source that is set,
// in KSM's order of precedence (the API allows only one).
func persistentVolumeInfo(p *v1.PersistentVolume) []Metric {
	var (
		gcePDName, ebsVolumeID, azureDiskName           string
		fcWWIDs, fcLun, fcTargetWWNs                    string
		iscsiPortal, iscsiIQN, iscsiLun, iscsiInitiator string
		nfsServer, nfsPath                              string
		csiDriver, csiHandle                            string
		localPath, localFS                              string
		hostPath, hostPathType                          string
	)
	s := p.Spec.PersistentVolumeSource
	switch {
	case s.GCEPersistentDisk != nil:
		gcePDName = s.GCEPersistentDisk.PDName
	case s.AWSElasticBlockStore != nil:
		ebsVolumeID = s.AWSElasticBlockStore.VolumeID
	case s.AzureDisk != nil:
		azureDiskName = s.AzureDisk.DiskName
	case s.FC != nil:
		if s.FC.Lun != nil {
			fcLun = strconv.FormatInt(int64(*s.FC.Lun), 10)
		}
		fcTargetWWNs = strings.Join(s.FC.TargetWWNs, ",")
		fcWWIDs = strings.Join(s.FC.WWIDs, ",")
	case s.ISCSI != nil:
		iscsiPortal, iscsiIQN = s.ISCSI.TargetPortal, s.ISCSI.IQN
		iscsiLun = strconv.FormatInt(int64(s.ISCSI.Lun), 10)
		if s.ISCSI.InitiatorName != nil {
			iscsiInitiator = *s.ISCSI.InitiatorName
		}
	case s.NFS != nil:
		nfsServer, nfsPath = s.NFS.Server, s.NFS.Path
	case s.CSI != nil:
		csiDriver, csiHandle = s.CSI.Driver, s.CSI.VolumeHandle
	case s.Local != nil:
		localPath = s.Local.Path
		if s.Local.FSType != nil {
			localFS = *s.Local.FSType
		}
	case s.HostPath != nil:
		hostPath = s.HostPath.Path
		if s.HostPath.Type != nil {
			hostPathType = string(*s.HostPath.Type)
		}
	}
	return []Metric{{Keys: persistentVolumeInfoKeys, Values: []string{
		p.Spec.StorageClassName,
		gcePDName, ebsVolumeID, azureDiskName,
		fcWWIDs, fcLun, fcTargetWWNs,
		iscsiPortal, iscsiIQN, iscsiLun, iscsiInitiator,
		nfsServer, nfsPath,
		csiDriver, csiHandle,
		localPath, localFS,
		hostPath, hostPathType,
		string(p.Spec.PersistentVolumeReclaimPolicy),
	}, Value: 1}}
}

func persistentVolumeFamilies(o Options) []Family[*v1.PersistentVolume] {
	return []Family[*v1.PersistentVolume]{
		{
			Name: "kube_persistentvolume_claim_ref", Help: "Information about the Persistent Volume Claim Reference.", Type: Gauge, Stability: Stable,
			Gen: func(p *v1.PersistentVolume) []Metric {
				ref := p.Spec.ClaimRef
				if ref == nil {
					return nil
				}
				return []Metric{m(1, "name", ref.Name, "claim_namespace", ref.Namespace)}
			},
		},
		annotationsFamily[*v1.PersistentVolume]("persistentvolume", Alpha, o.AllowAnnotations),
		labelsFamily[*v1.PersistentVolume]("persistentvolume", Stable, o.AllowLabels),
		{
			Name: "kube_persistentvolume_status_phase", Help: "The phase indicates if a volume is available, bound to a claim, or released by a claim.", Type: Gauge, Stability: Stable,
			Gen: func(p *v1.PersistentVolume) []Metric { return phaseMetrics(p.Status.Phase, persistentVolumePhases) },
		},
		{
			Name: "kube_persistentvolume_info", Help: "Information about persistentvolume.", Type: Gauge, Stability: Stable,
			Gen: persistentVolumeInfo,
		},
		{
			Name: "kube_persistentvolume_capacity_bytes", Help: "Persistentvolume capacity in bytes.", Type: Gauge, Stability: Stable,
			// KSM reads the quantity even when it is absent: 0 bytes, never no series.
			Gen: func(p *v1.PersistentVolume) []Metric {
				storage := p.Spec.Capacity[v1.ResourceStorage]
				return one(float64(storage.Value()))
			},
		},
		createdFamily[*v1.PersistentVolume]("persistentvolume", Alpha),
		deletionTimestampFamily[*v1.PersistentVolume]("persistentvolume", Alpha),
		{
			Name: "kube_persistentvolume_csi_attributes", Help: "CSI attributes of the Persistent Volume.", Type: Gauge, Stability: Alpha,
			OptIn: true,
			// Only the two attributes of the Ceph CSI driver that KSM knows.
			Gen: func(p *v1.PersistentVolume) []Metric {
				csi := p.Spec.CSI
				if csi == nil {
					return nil
				}
				return []Metric{m(1, "csi_mounter", csi.VolumeAttributes["mounter"], "csi_map_options", csi.VolumeAttributes["mapOptions"])}
			},
		},
		{
			Name: "kube_persistentvolume_volume_mode", Help: "Volume Mode information for the PersistentVolume.", Type: Gauge, Stability: Alpha,
			Gen: func(p *v1.PersistentVolume) []Metric {
				// An unset mode means Filesystem, the API's default, as KSM reports it.
				mode := v1.PersistentVolumeFilesystem
				if p.Spec.VolumeMode != nil {
					mode = *p.Spec.VolumeMode
				}
				return []Metric{m(1, "volumemode", string(mode))}
			},
		},
		{
			Name: "kube_persistentvolume_access_mode", Help: "The access mode(s) specified by the persistent volume.", Type: Gauge, Stability: Alpha,
			Gen: func(p *v1.PersistentVolume) []Metric { return accessModeMetrics(p.Spec.AccessModes) },
		},
	}
}
