package e2e

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// env is the running cluster and receiver, shared by every test of the package.
var env struct {
	stateDir   string
	kubeconfig string
	promURL    string
	binary     string
	client     kubernetes.Interface
}

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	root, err := filepath.Abs("..")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	tmp, err := os.MkdirTemp("", "ksp-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(tmp)

	env.binary = filepath.Join(tmp, "kube-state-push")
	build := exec.Command("go", "build", "-o", env.binary, "./cmd/kube-state-push")
	build.Dir, build.Stdout, build.Stderr = root, os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: build kube-state-push:", err)
		return 1
	}

	env.stateDir = filepath.Join(tmp, "cluster")
	cluster := filepath.Join(root, "hack", "cluster.sh")
	up := exec.Command(cluster, "up", env.stateDir)
	up.Stdout, up.Stderr = os.Stderr, os.Stderr
	// Stop the cluster whatever happens after this point, even if up failed half-way.
	defer func() {
		down := exec.Command(cluster, "down", env.stateDir)
		down.Stdout, down.Stderr = os.Stderr, os.Stderr
		if err := down.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "e2e: cluster down:", err)
		}
	}()
	if err := up.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: cluster up:", err)
		return 1
	}
	vars, err := readEnvFile(filepath.Join(env.stateDir, "env"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	env.kubeconfig, env.promURL = vars["KUBECONFIG"], vars["PROMETHEUS_URL"]
	rc, err := clientcmd.BuildConfigFromFlags("", env.kubeconfig)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	env.client = kubernetes.NewForConfigOrDie(rc)
	return m.Run()
}

func readEnvFile(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	vars := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(strings.TrimPrefix(sc.Text(), "export "))
		if k, v, ok := strings.Cut(line, "="); ok {
			vars[k] = strings.Trim(v, `"'`)
		}
	}
	return vars, sc.Err()
}

// eventually polls cond every 100 ms until it returns nil or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() error) time.Duration {
	t.Helper()
	start := time.Now()
	deadline := start.Add(within)
	var err error
	for {
		if err = cond(); err == nil {
			return time.Since(start)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not true within %s: %v", what, within, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	return ctx
}
