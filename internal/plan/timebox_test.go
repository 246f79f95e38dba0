package plan

import (
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/daytwo-dev/daytwo/internal/command"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

// A time-boxed change carries Daytwo-Expires, and the commands Restore derives from the
// values before it bring exactly those values back.
func TestTimeboxRoundTrip(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		input, line string
		want        []string // the restoring lines
		before      Values
	}{
		{"scale-prod", "/scale 5 --for 2h --service checkout --env prod", []string{"/scale 3 --service checkout --env prod"}, Values{"replicas": "3"}},
		{"suspend-prod", "/suspend --for 3d --service checkout --env prod", []string{"/resume --service checkout --env prod"}, Values{"replicas": "3"}},
		{"set-image-cart", "/set-image 2.0.2 --for 1h --service cart --env prod", []string{"/set-image ghcr.io/acme/cart:2.0.0 --service cart --env prod"}, Values{"image": "ghcr.io/acme/cart:2.0.0"}},
		{"config-set-prod", "/config set LOG_LEVEL=debug NEW_KEY='a b' --for 30m --service checkout --env prod",
			[]string{"/config set LOG_LEVEL=warn --service checkout --env prod", "/config unset NEW_KEY --service checkout --env prod"}, Values{"config:LOG_LEVEL": "warn"}},
		{"freeze-prod", "/freeze prod --for 2h --reason deploy window", []string{"/unfreeze prod"}, Values{"freeze": ""}},
	} {
		t.Run(c.input, func(t *testing.T) {
			files := readTree(t, filepath.Join("testdata", c.input, "input"))
			cmd, err := command.All().ParseLine(c.line)
			if err != nil {
				t.Fatal(err)
			}
			p := New()
			cfg := loadConfig(t, files)
			before, err := p.ValuesAt(ctx, cfg, newMemSnapshot(baseSHA, files), cmd)
			if err != nil || !reflect.DeepEqual(before, c.before) {
				t.Fatalf("ValuesAt before = %v, %v; want %v", before, err, c.before)
			}
			cs, err := p.Plan(ctx, cfg, files[repoconfig.Path], newMemSnapshot(baseSHA, files), nil, request(c.line, cmd))
			if err != nil {
				t.Fatal(err)
			}
			if tr := ParseTrailers(cs.CommitMessage); tr[TrailerExpires] != command.FormatDuration(cmd.For) {
				t.Errorf("trailers %v, want %s: %s", tr, TrailerExpires, command.FormatDuration(cmd.For))
			}
			if !strings.Contains(cs.Body, "expires "+command.FormatDuration(cmd.For)+" after merge") {
				t.Errorf("the body does not say when it expires:\n%s", cs.Body)
			}
			changed := apply(t, files, cs)
			cfgAfter := loadConfig(t, changed)
			after, err := p.ValuesAt(ctx, cfgAfter, newMemSnapshot("1111111111111111111111111111111111111111", changed), cmd)
			if err != nil || after.Equal(before) {
				t.Fatalf("ValuesAt after = %v, %v: the change changed nothing", after, err)
			}
			lines, err := Restore(cmd, before)
			if err != nil || !reflect.DeepEqual(lines, c.want) {
				t.Fatalf("Restore = %q, %v; want %q", lines, err, c.want)
			}
			cmds, err := RestoreCommands(lines)
			if err != nil {
				t.Fatal(err)
			}
			restored := changed
			for i, rc := range cmds {
				in := request(lines[i], rc)
				in.Restores = "acme/gitops#7"
				rcs, err := p.Plan(ctx, loadConfig(t, restored), restored[repoconfig.Path], newMemSnapshot("2222222222222222222222222222222222222222", restored), nil, in)
				if err != nil {
					t.Fatalf("planning %s: %v", lines[i], err)
				}
				if tr := ParseTrailers(rcs.CommitMessage); tr[TrailerRestores] != "acme/gitops#7" || tr[TrailerExpires] != "" {
					t.Errorf("restore trailers %v", tr)
				}
				restored = apply(t, restored, rcs)
			}
			back, err := p.ValuesAt(ctx, loadConfig(t, restored), newMemSnapshot("3333333333333333333333333333333333333333", restored), cmd)
			if err != nil || !back.Equal(before) {
				t.Errorf("after the restore: %v, %v; want %v", back, err, before)
			}
			// The files come back byte for byte, except after /resume, which leaves daytwo's
			// patch file behind (it renders the same).
			if c.input == "suspend-prod" {
				return
			}
			for p, b := range files {
				if string(restored[p]) != string(b) {
					t.Errorf("%s is not restored exactly:\n%s\n----\n%s", p, b, restored[p])
				}
			}
			for p := range restored {
				if _, ok := files[p]; !ok {
					t.Errorf("%s is left behind", p)
				}
			}
		})
	}
}

func TestTimeboxRefusals(t *testing.T) {
	if _, err := Restore(command.Command{Name: "freeze", Env: "prod"}, Values{"freeze": "frozen: other"}); ErrorCode(err) != NoChange {
		t.Errorf("restoring a freeze over an earlier one: %v", err)
	}
	files := readTree(t, filepath.Join("testdata", "scale-prod", "input"))
	cmd := command.Command{Name: "restart", Service: "checkout", Env: "prod", For: time.Hour}
	_, err := New().Plan(context.Background(), loadConfig(t, files), nil, newMemSnapshot(baseSHA, files), nil, request("/restart --env prod", cmd))
	if ErrorCode(err) != Invalid || !strings.Contains(err.Error(), "cannot be time-boxed") {
		t.Errorf("a time-boxed restart: %v", err)
	}
}
