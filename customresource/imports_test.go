package customresource

import (
	"go/build"
	"strings"
	"testing"
)

// The package is pure (doc.go): no I/O, no client, nothing further down the
// data path.
func TestImports(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	forbidden := []string{"os", "io/fs", "net", "os/exec", "syscall", "k8s.io/client-go",
		"github.com/kube-state-push/kube-state-push/agent", "github.com/kube-state-push/kube-state-push/snapshot",
		"github.com/kube-state-push/kube-state-push/walpipe"}
	for _, imp := range pkg.Imports {
		for _, f := range forbidden {
			if imp == f || strings.HasPrefix(imp, f+"/") {
				t.Errorf("imports %s", imp)
			}
		}
	}
}
