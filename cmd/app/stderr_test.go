package main

import (
	"bytes"
	"encoding/json"
	stdlog "log"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/daytwo-dev/daytwo/internal/config"
)

// kustomize's deprecation warning, and the standard logger, become JSON log entries.
func TestStderrBecomesLogEntries(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"kustomization.yaml": "resources: [cm.yaml]\npatchesStrategicMerge: [patch.yaml]\n",
		"cm.yaml":            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: \"1\"}\n",
		"patch.yaml":         "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: \"2\"}\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	origStderr, origLog := os.Stderr, stdlog.Writer()
	restore, err := logStderr(newLogger(config.Log{Level: "info", Format: "json"}, &buf))
	if err != nil {
		t.Fatal(err)
	}
	_, renderErr := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	stdlog.Print("from the standard logger")
	restore()
	if renderErr != nil {
		t.Fatal(renderErr)
	}

	var msgs []string
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var e struct{ Level, Source, Message string }
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("not a JSON log line: %q", line)
		}
		if e.Level != "warn" || e.Source != "stderr" {
			t.Errorf("entry %s: want level warn, source stderr", line)
		}
		msgs = append(msgs, e.Message)
	}
	got := strings.Join(msgs, "\n")
	if !strings.Contains(got, "Warning: 'patchesStrategicMerge' is deprecated") || !strings.Contains(got, "\nfrom the standard logger") {
		t.Fatalf("entries:\n%s", got)
	}
	if os.Stderr != origStderr || stdlog.Writer() != origLog {
		t.Fatal("standard error not restored")
	}
}
