package image_test

import (
	"os"
	"os/exec"
	"path"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"

	"github.com/daytwo-dev/daytwo/internal/image"
)

// copied is one file a COPY of the Dockerfile's final stage puts in the image.
type copied struct{ from, src, chmod, chown string }

// TestDockerfileMatchesTheBuilder parses the Dockerfile with BuildKit's own parser and
// checks that its final stage puts the same files, from the same sources, with the same
// modes, user, entrypoint, cmd and labels in the image as Build, and that its go build is
// make build's.
func TestDockerfileMatchesTheBuilder(t *testing.T) {
	f, err := os.Open("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := parser.Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	stages, _, err := instructions.Parse(res.AST)
	if err != nil {
		t.Fatal(err)
	}
	lex := shell.NewLex(res.EscapeToken)
	byName := map[string]instructions.Stage{}
	for _, s := range stages {
		byName[s.Name] = s
	}
	final := stages[len(stages)-1]
	if final.BaseName != "scratch" {
		t.Errorf("the final stage is FROM %s, want scratch: the image holds nothing but its files", final.BaseName)
	}

	args := map[string]string{} // ARGs declared in the final stage, as placeholders
	files := map[string]copied{}
	var user string
	var entrypoint, cmd []string
	labels := map[string]string{}
	for _, c := range final.Commands {
		switch c := c.(type) {
		case *instructions.ArgCommand:
			for _, a := range c.Args {
				args[a.Key] = "<" + a.Key + ">"
			}
		case *instructions.CopyCommand:
			for _, src := range c.SourcePaths {
				dst := c.DestPath
				if strings.HasSuffix(dst, "/") || len(c.SourcePaths) > 1 {
					dst = path.Join(dst, path.Base(src))
				}
				if _, dup := files[dst]; dup {
					t.Errorf("%s is copied twice", dst)
				}
				files[dst] = copied{from: c.From, src: src, chmod: c.Chmod, chown: c.Chown}
			}
		case *instructions.UserCommand:
			user = c.User
		case *instructions.EntrypointCommand:
			if c.PrependShell {
				t.Errorf("ENTRYPOINT is in shell form; the image has no shell: use the exec form")
			}
			entrypoint = c.CmdLine
		case *instructions.CmdCommand:
			if c.PrependShell {
				t.Errorf("CMD is in shell form; the image has no shell: use the exec form")
			}
			cmd = c.CmdLine
		case *instructions.LabelCommand:
			for _, kv := range c.Labels {
				v, err := lex.ProcessWordWithMap(kv.Value, args)
				if err != nil {
					t.Fatalf("LABEL %s: %v", kv.Key, err)
				}
				labels[kv.Key] = v
			}
		default:
			t.Errorf("the final stage's %s has no counterpart in internal/image's builder", strings.ToUpper(c.Name()))
		}
	}

	// The files: the same paths, modes and owners, from the same sources.
	var want, got []string
	for _, f := range image.Files {
		want = append(want, f.Path)
	}
	for p := range files {
		got = append(got, p)
	}
	sort.Strings(got)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("the Dockerfile copies %v, the builder writes %v", got, want)
	}
	for _, f := range image.Files {
		c, ok := files[f.Path]
		if !ok {
			continue
		}
		if mode, err := strconv.ParseUint(c.chmod, 8, 32); err != nil || mode != uint64(f.Mode) {
			t.Errorf("%s: COPY --chmod=%q, want %04o", f.Path, c.chmod, f.Mode)
		}
		if c.chown != "" && c.chown != "0:0" {
			t.Errorf("%s: COPY --chown=%s, want root's (0:0)", f.Path, c.chown)
		}
		switch f.Source {
		case image.SourceBinary:
			build, ok := byName[c.from]
			if !ok || !strings.HasPrefix(build.BaseName, "golang:") {
				t.Errorf("%s: copied from stage %q, want the golang builder stage", f.Path, c.from)
				continue
			}
			checkGoBuild(t, lex, build, c.src)
		case image.SourceCACerts:
			certs, ok := byName[c.from]
			if !ok || !strings.HasPrefix(certs.BaseName, "debian:") || !installs(certs, "ca-certificates") || c.src != image.CACertsPath {
				t.Errorf("%s: copied from stage %q (%s) path %s, want %s from a debian stage that installs ca-certificates", f.Path, c.from, certs.BaseName, c.src, image.CACertsPath)
			}
		default:
			if c.from != "" || c.src != f.Source {
				t.Errorf("%s: copied from %q %s, want the build context's %s", f.Path, c.from, c.src, f.Source)
			}
		}
	}

	if user != image.User {
		t.Errorf("USER %q, want %q", user, image.User)
	}
	if !reflect.DeepEqual(entrypoint, image.Entrypoint) || !reflect.DeepEqual(cmd, image.Cmd) {
		t.Errorf("ENTRYPOINT %q CMD %q, want %q %q", entrypoint, cmd, image.Entrypoint, image.Cmd)
	}
	wantLabels := map[string]string{image.LabelSource: image.SourceURL, image.LabelRevision: "<REVISION>", image.LabelVersion: "<VERSION>"}
	if !reflect.DeepEqual(labels, wantLabels) {
		t.Errorf("LABELs %v, want %v (the revision and version from ARGs)", labels, wantLabels)
	}
	var keys []string
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if !reflect.DeepEqual(keys, image.LabelKeys) {
		t.Errorf("label keys %v, want %v", keys, image.LabelKeys)
	}
}

// checkGoBuild compares the builder stage's go build, with its VERSION ARG, to the command
// make build runs: the same environment, flags and ldflags.
func checkGoBuild(t *testing.T, lex *shell.Lex, build instructions.Stage, out string) {
	t.Helper()
	const version = "v9.9.9-dockerfile"
	env := map[string]string{}
	var run []string
	for _, c := range build.Commands {
		switch c := c.(type) {
		case *instructions.ArgCommand:
			for _, a := range c.Args {
				env[a.Key] = ""
				if a.Key == "VERSION" {
					env[a.Key] = version
				}
			}
		case *instructions.RunCommand:
			if len(c.CmdLine) == 1 && strings.Contains(c.CmdLine[0], "go build") {
				words, err := lex.ProcessWordsWithMap(c.CmdLine[0], env)
				if err != nil {
					t.Fatalf("RUN %s: %v", c.CmdLine[0], err)
				}
				run = words
			}
		}
	}
	if run == nil {
		t.Fatalf("stage %s has no RUN … go build", build.Name)
	}
	printed, err := exec.Command("make", "-s", "-n", "-C", "../..", "build", "GO=go", "VERSION="+version, "BIN="+out).Output()
	if err != nil {
		t.Fatalf("make -n build: %v", err)
	}
	mk, err := lex.ProcessWordsWithMap(strings.TrimSpace(string(printed)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(run, mk) {
		t.Errorf("the Dockerfile builds with\n  %q\nmake build with\n  %q", run, mk)
	}
}

func installs(s instructions.Stage, pkg string) bool {
	for _, c := range s.Commands {
		if r, ok := c.(*instructions.RunCommand); ok && strings.Contains(strings.Join(r.CmdLine, " "), "apt-get install") && strings.Contains(strings.Join(r.CmdLine, " "), " "+pkg) {
			return true
		}
	}
	return false
}
