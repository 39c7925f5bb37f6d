// Command modreplaces reads `go mod edit -json` of a module's go.mod on stdin and
// prints one `go mod edit` flag per replace and exclude directive, so that a wrapper
// module that requires the module builds it as the module's own go.mod would. Replaces
// onto local paths cannot be copied and are skipped (with a note on stderr).
package main

import (
	"encoding/json"
	"fmt"
	"os"
)

type modVersion struct {
	Path    string
	Version string
}

type goMod struct {
	Replace []struct{ Old, New modVersion }
	Exclude []modVersion
}

func at(m modVersion) string {
	if m.Version == "" {
		return m.Path
	}
	return m.Path + "@" + m.Version
}

func main() {
	var m goMod
	if err := json.NewDecoder(os.Stdin).Decode(&m); err != nil {
		fmt.Fprintln(os.Stderr, "modreplaces: reading go mod edit -json:", err)
		os.Exit(1)
	}
	for _, r := range m.Replace {
		if r.New.Version == "" {
			fmt.Fprintf(os.Stderr, "modreplaces: skipping local replace %s => %s\n", at(r.Old), r.New.Path)
			continue
		}
		fmt.Printf("-replace=%s=%s\n", at(r.Old), at(r.New))
	}
	for _, e := range m.Exclude {
		fmt.Printf("-exclude=%s\n", at(e))
	}
}
