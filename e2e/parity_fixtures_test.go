package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"
)

const (
	fixturesDir       = "testdata/fixtures"
	statusPatchesFile = "testdata/status-patches.yaml"
)

// fixtureStep is one entry of testdata/status-patches.yaml.
type fixtureStep struct {
	APIVersion  string          `json:"apiVersion"`
	Resource    string          `json:"resource"`
	Namespace   string          `json:"namespace"`
	Name        string          `json:"name"`
	Selector    string          `json:"selector"`
	Subresource string          `json:"subresource"`
	Patch       json.RawMessage `json:"patch"`
	Delete      bool            `json:"delete"`
	Finalizer   bool            `json:"finalizer"`
}

func (s fixtureStep) String() string {
	who := s.Name
	if who == "" {
		who = "-l " + s.Selector
	}
	return fmt.Sprintf("%s %s/%s %s", s.Resource, s.Namespace, who, s.Subresource)
}

// client returns the dynamic client for the step's resource and namespace.
func (s fixtureStep) client(dc dynamic.Interface) (dynamic.ResourceInterface, error) {
	gv, err := schema.ParseGroupVersion(s.APIVersion)
	if err != nil {
		return nil, fmt.Errorf("step %s: %w", s, err)
	}
	r := dc.Resource(gv.WithResource(s.Resource))
	if s.Namespace == "" {
		return r, nil
	}
	return r.Namespace(s.Namespace), nil
}

// names returns the objects the step is about: its name, or the objects its
// selector matches now (an error when none does yet).
func (s fixtureStep) names(ctx context.Context, c dynamic.ResourceInterface) ([]string, error) {
	if s.Selector == "" {
		return []string{s.Name}, nil
	}
	list, err := c.List(ctx, metav1.ListOptions{LabelSelector: s.Selector})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", s, err)
	}
	if len(list.Items) == 0 {
		return nil, fmt.Errorf("list %s: no object yet", s)
	}
	names := make([]string, len(list.Items))
	for i, o := range list.Items {
		names[i] = o.GetName()
	}
	return names, nil
}

func loadFixtureSteps(t *testing.T, file string) []fixtureStep {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var steps []fixtureStep
	if err := yaml.Unmarshal(data, &steps); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return steps
}

func dynamicClient(t *testing.T) dynamic.Interface {
	t.Helper()
	rc, err := clientcmd.BuildConfigFromFlags("", env.kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	dc, err := dynamic.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	return dc
}

func kubectl(args ...string) error {
	cmd := exec.Command("kubectl", append([]string{"--kubeconfig", env.kubeconfig, "--request-timeout=60s"}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("kubectl %v: %w\n%s", args, err, out)
	}
	return nil
}

// applyFixtures applies testdata/fixtures, then takes the steps of
// testdata/status-patches.yaml: the patches (retried until their object
// exists), then the deletions. The clean-up removes the finalizers the
// fixtures set and deletes everything without waiting.
func applyFixtures(t *testing.T) {
	t.Helper()
	dc := dynamicClient(t)
	steps := loadFixtureSteps(t, statusPatchesFile)
	t.Cleanup(func() { deleteFixtures(t, dc, steps) })
	if err := kubectl("apply", "-f", fixturesDir); err != nil {
		t.Fatal(err)
	}
	takeSteps(t, dc, steps)
}

// takeSteps takes the patches of steps (each retried until its object
// exists), then the deletions.
func takeSteps(t *testing.T, dc dynamic.Interface, steps []fixtureStep) {
	t.Helper()
	ctx := testContext(t)
	for _, s := range steps {
		if len(s.Patch) == 0 {
			continue
		}
		c, err := s.client(dc)
		if err != nil {
			t.Fatal(err)
		}
		eventually(t, time.Minute, "patch "+s.String(), func() error {
			names, err := s.names(ctx, c)
			if err != nil {
				return err
			}
			for _, n := range names {
				if _, err := c.Patch(ctx, n, types.StrategicMergePatchType, s.Patch, metav1.PatchOptions{}, subresources(s)...); err != nil {
					return fmt.Errorf("patch %s: %w", n, err)
				}
			}
			return nil
		})
	}
	for _, s := range steps {
		if !s.Delete {
			continue
		}
		c, err := s.client(dc)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Delete(ctx, s.Name, metav1.DeleteOptions{}); err != nil {
			t.Fatalf("delete %s: %v", s, err)
		}
	}
}

func subresources(s fixtureStep) []string {
	if s.Subresource == "" {
		return nil
	}
	return []string{s.Subresource}
}

// deleteFixtures releases the finalizers the fixtures hold and deletes the
// fixtures; what fails is logged, as nothing else depends on it.
func deleteFixtures(t *testing.T, dc dynamic.Interface, steps []fixtureStep) {
	deleteFixtureSet(t, dc, fixturesDir, steps)
}

// deleteFixtureSet is deleteFixtures for the manifests in dir.
func deleteFixtureSet(t *testing.T, dc dynamic.Interface, dir string, steps []fixtureStep) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	release := []byte(`{"metadata":{"finalizers":null}}`)
	for _, s := range steps {
		if !s.Finalizer {
			continue
		}
		c, err := s.client(dc)
		if err == nil {
			_, err = c.Patch(ctx, s.Name, types.MergePatchType, release, metav1.PatchOptions{})
		}
		if err != nil {
			t.Logf("clean-up: release %s: %v", s, err)
		}
	}
	if err := kubectl("delete", "-f", dir, "--ignore-not-found", "--wait=false"); err != nil {
		t.Logf("clean-up: %v", err)
	}
}
