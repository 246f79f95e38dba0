package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	stdlog "log"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/sirupsen/logrus"

	"github.com/daytwo-dev/daytwo/internal/config"
	"github.com/daytwo-dev/daytwo/internal/discovery"
	"github.com/daytwo-dev/daytwo/internal/gitlocal"
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

// What argo-cd's ApplicationSet generators log through logrus becomes debug entries of
// daytwo's log, not text on standard error.
func TestLogrusBecomesDebugEntries(t *testing.T) {
	var buf bytes.Buffer
	routeLogrus(newLogger(config.Log{Level: "debug", Format: "json"}, &buf))
	t.Cleanup(func() { logrus.StandardLogger().ReplaceHooks(logrus.LevelHooks{}); logrus.SetOutput(os.Stderr) })
	if logrus.StandardLogger().Out != io.Discard {
		t.Fatal("logrus still writes to its own output")
	}
	ctx := context.Background()
	repo, err := gitlocal.Open(ctx, exampleClone(t, "shared-bases"))
	if err != nil {
		t.Fatal(err)
	}
	snap, err := repo.Snapshot(ctx, "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	if deps, _, err := discovery.Find(ctx, snap); err != nil || len(deps) != 6 {
		t.Fatalf("%d deployments, %v", len(deps), err)
	}
	var e struct{ Level, Source, Message, RepoURL string }
	if err := json.Unmarshal(buf.Bytes(), &e); err != nil {
		t.Fatalf("not one JSON log line: %q", buf.String())
	}
	if e.Level != "debug" || e.Source != "argo-cd" || e.Message != "applications result from the repo service" || e.RepoURL != "https://github.com/acme/platform.git" {
		t.Errorf("entry %s", buf.String())
	}
}
