package collectors

import (
	"testing"

	v1 "k8s.io/api/core/v1"
	apiresource "k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

func TestPersistentVolumeGolden(t *testing.T) {
	// allFamilies enables every family, the opt-in kube_persistentvolume_csi_attributes included.
	allFamilies := Options{Family: func(FamilyInfo) bool { return true }}
	created := metav1.Unix(1501569018, 0)
	deleted := metav1.Unix(1501569118, 0)
	pv := func(name string, src v1.PersistentVolumeSource) *v1.PersistentVolume {
		return &v1.PersistentVolume{
			ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("uid-" + name), CreationTimestamp: created},
			Spec: v1.PersistentVolumeSpec{
				PersistentVolumeSource:        src,
				StorageClassName:              "standard",
				PersistentVolumeReclaimPolicy: v1.PersistentVolumeReclaimDelete,
				Capacity:                      v1.ResourceList{v1.ResourceStorage: apiresource.MustParse("5Gi")},
				AccessModes:                   []v1.PersistentVolumeAccessMode{v1.ReadWriteOnce},
			},
			Status: v1.PersistentVolumeStatus{Phase: v1.VolumeAvailable},
		}
	}
	bound := pv("pv-csi", v1.PersistentVolumeSource{CSI: &v1.CSIPersistentVolumeSource{
		Driver: "rbd.csi.ceph.com", VolumeHandle: "0001-0024-abc",
		VolumeAttributes: map[string]string{"mounter": "rbd-nbd", "mapOptions": "krbd:rxbounce", "pool": "rbd"},
	}})
	bound.Spec.ClaimRef = &v1.ObjectReference{Kind: "PersistentVolumeClaim", Namespace: "ns1", Name: "data-db-0"}
	bound.Spec.VolumeMode = new(v1.PersistentVolumeBlock)
	bound.Spec.AccessModes = []v1.PersistentVolumeAccessMode{v1.ReadWriteOnce, v1.ReadOnlyMany, v1.ReadWriteOncePod}
	bound.Status.Phase = v1.VolumeBound

	csiPlain := pv("pv-csi-plain", v1.PersistentVolumeSource{CSI: &v1.CSIPersistentVolumeSource{Driver: "ebs.csi.aws.com", VolumeHandle: "vol-1"}})

	released := pv("pv-nfs", v1.PersistentVolumeSource{NFS: &v1.NFSVolumeSource{Server: "nfs.example.com", Path: "/exports/a"}})
	released.Spec.PersistentVolumeReclaimPolicy = v1.PersistentVolumeReclaimRetain
	released.Status.Phase = v1.VolumeReleased
	released.DeletionTimestamp = &deleted
	// The claim is gone but its reference stays: no namespace drops the label.
	released.Spec.ClaimRef = &v1.ObjectReference{Name: "old-claim"}

	failed := pv("pv-iscsi", v1.PersistentVolumeSource{ISCSI: &v1.ISCSIPersistentVolumeSource{
		TargetPortal: "10.0.0.1:3260", IQN: "iqn.2001-04.com.example:storage", Lun: 0,
		InitiatorName: new("iqn.1996-04.de.suse:01:abc"),
	}})
	failed.Status.Phase = v1.VolumeFailed

	pending := pv("pv-fc", v1.PersistentVolumeSource{FC: &v1.FCVolumeSource{
		TargetWWNs: []string{"500a0981891b8dc5", "500a0981991b8dc5"}, Lun: new(int32(2)), WWIDs: []string{"wwid-a", "wwid-b"},
	}})
	pending.Status.Phase = v1.VolumePending

	runGolden(t, "persistentvolumes", []goldenCase{
		{name: "csi-bound-opt-in", obj: bound, opts: allFamilies},
		{name: "csi-bound-default-families", obj: bound},
		{name: "csi-without-ceph-attributes", obj: csiPlain, opts: allFamilies},
		{name: "nfs-released-deleting", obj: released},
		{name: "iscsi-failed", obj: failed, opts: allFamilies},
		{name: "iscsi-without-initiator", obj: pv("pv-iscsi-2", v1.PersistentVolumeSource{ISCSI: &v1.ISCSIPersistentVolumeSource{
			TargetPortal: "10.0.0.2:3260", IQN: "iqn.2001-04.com.example:other", Lun: 7,
		}})},
		{name: "fc-pending", obj: pending},
		{name: "fc-without-lun", obj: pv("pv-fc-2", v1.PersistentVolumeSource{FC: &v1.FCVolumeSource{WWIDs: []string{"wwid-only"}}})},
		{name: "gce", obj: pv("pv-gce", v1.PersistentVolumeSource{GCEPersistentDisk: &v1.GCEPersistentDiskVolumeSource{PDName: "disk-1"}})},
		{name: "ebs", obj: pv("pv-ebs", v1.PersistentVolumeSource{AWSElasticBlockStore: &v1.AWSElasticBlockStoreVolumeSource{VolumeID: "vol-0abc"}})},
		{name: "azure-disk", obj: pv("pv-azure", v1.PersistentVolumeSource{AzureDisk: &v1.AzureDiskVolumeSource{DiskName: "azdisk", DataDiskURI: "https://x"}})},
		{name: "local", obj: pv("pv-local", v1.PersistentVolumeSource{Local: &v1.LocalVolumeSource{Path: "/mnt/disks/ssd1", FSType: new("ext4")}})},
		{name: "local-without-fstype", obj: pv("pv-local-2", v1.PersistentVolumeSource{Local: &v1.LocalVolumeSource{Path: "/mnt/disks/ssd2"}})},
		{name: "host-path", obj: pv("pv-hostpath", v1.PersistentVolumeSource{HostPath: &v1.HostPathVolumeSource{Path: "/data", Type: new(v1.HostPathDirectoryOrCreate)}})},
		{name: "host-path-without-type", obj: pv("pv-hostpath-2", v1.PersistentVolumeSource{HostPath: &v1.HostPathVolumeSource{Path: "/data2"}})},
		{name: "unlisted-source", obj: pv("pv-cephfs", v1.PersistentVolumeSource{CephFS: &v1.CephFSPersistentVolumeSource{Monitors: []string{"m1"}}})},
		{name: "allowlists", obj: &v1.PersistentVolume{
			ObjectMeta: metav1.ObjectMeta{Name: "pv-labelled", UID: "pv-l",
				Labels:      map[string]string{"topology.kubernetes.io/zone": "eu-1a", "app": "db"},
				Annotations: map[string]string{"pv.kubernetes.io/provisioned-by": "ebs.csi.aws.com", "app": "db"}},
		}, opts: Options{AllowLabels: []string{"*"}, AllowAnnotations: []string{"app"}}},
		// No phase, capacity, source, mode or access modes: capacity is 0, the mode
		// defaults to Filesystem, there is no phase, claim or deletion series.
		{name: "empty", obj: &v1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: "bare", UID: "pv-bare"}}, opts: allFamilies},
	})
}
