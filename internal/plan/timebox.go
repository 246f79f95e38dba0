package plan

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/daytwo-dev/daytwo/internal/command"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

// Values are the fields a time-boxed change sets, as an overlay (or the config) holds them
// at one commit: "replicas", "suspended" (the count /suspend kept), "image" (what the
// container runs), "config:<KEY>" (absent when the key is not set), "freeze". Two
// snapshots agree on a change when their Values are equal.
type Values map[string]string

// Equal reports whether v and w hold the same fields with the same values.
func (v Values) Equal(w Values) bool {
	if len(v) != len(w) {
		return false
	}
	for k, x := range v {
		if y, ok := w[k]; !ok || x != y {
			return false
		}
	}
	return true
}

// Timeboxed reports whether a command's change may carry --for.
func Timeboxed(cmd command.Command) bool {
	switch cmd.Name {
	case "scale", "suspend", "set-image", "freeze":
		return true
	case "config":
		return len(cmd.Unset) == 0
	}
	return false
}

// ValuesAt reads what the resolved command cmd sets, as snap holds it.
func (p *Planner) ValuesAt(ctx context.Context, cfg *repoconfig.Config, snap Snapshot, cmd command.Command) (Values, error) {
	if !Timeboxed(cmd) {
		return nil, Errorf(Invalid, "/%s cannot be time-boxed", cmd.Name)
	}
	if cmd.Name == "freeze" {
		// The freeze is daytwo's own config, as it stood at snap.
		b, err := snap.ReadFile(ctx, repoconfig.Path)
		if err != nil {
			return nil, &Error{Code: NotFound, Msg: fmt.Sprintf("cannot read %s at %s", repoconfig.Path, snap.Commit()), Err: err}
		}
		at, err := repoconfig.Load(b, commands)
		if err != nil {
			return nil, &Error{Code: Broken, Msg: fmt.Sprintf("%s at %s does not load", repoconfig.Path, snap.Commit()), Err: err}
		}
		f, frozen := at.Frozen(cmd.Env)
		if !frozen {
			return Values{"freeze": ""}, nil
		}
		return Values{"freeze": "frozen: " + f.Reason}, nil
	}
	svc, ok := cfg.Service(cmd.Service)
	if !ok {
		return nil, Errorf(NotFound, "no service %s in %s", cmd.Service, repoconfig.Path)
	}
	env, _ := cfg.Env(cmd.Env)
	j := &job{p: p, cfg: cfg, env: env, svc: svc, cmd: cmd, snap: snap}
	if err := j.open(ctx); err != nil {
		return nil, err
	}
	out := Values{}
	switch cmd.Name {
	case "scale", "suspend":
		w, cur, _, err := j.scalable()
		if err != nil {
			return nil, err
		}
		out["replicas"] = strconv.Itoa(cur)
		if was, ok := workloadAnnotation(w, SuspendedReplicasAnnotation); ok {
			out["suspended"] = was
		}
	case "set-image":
		cs, key, _, err := j.imageTargets()
		if err != nil {
			return nil, err
		}
		img := ""
		if len(cs) > 0 {
			img = cs[0].c.Image
		} else {
			for _, t := range containersIn(j.before.Workloads()) {
				if j.imageKey(t.c.Image) == key {
					img = t.c.Image
					break
				}
			}
		}
		if img == "" {
			return nil, Errorf(NotFound, "no container of %s in %s runs %s", j.svc.Name, j.cmd.Env, key)
		}
		out["image"] = img
	case "config":
		picked, err := j.pickConfigMap()
		if err != nil {
			return nil, err
		}
		res, ok := findConfigMap(j.before, j.info, picked.value)
		if !ok {
			return nil, Errorf(NotFound, "%s renders no ConfigMap generated as %s", j.where(), picked.value)
		}
		data := dataOf(res)
		for _, kv := range cmd.Set {
			if v, ok := data[kv.Key]; ok {
				out["config:"+kv.Key] = v
			}
		}
	}
	return out, nil
}

// Restore is the command line that brings back before, the Values of a time-boxed
// command cmd before its change: /scale to the count before, /resume after /suspend,
// /set-image to the image before, /config set of the old values or unset of keys that
// were absent (two lines then), /unfreeze after /freeze. The lines name the service,
// environment, workload and container of cmd.
func Restore(cmd command.Command, before Values) ([]string, error) {
	var where []string
	if cmd.Service != "" && cmd.Name != "freeze" {
		where = append(where, "--service", cmd.Service)
	}
	if cmd.Workload != "" {
		where = append(where, "--workload", cmd.Workload)
	}
	tail := strings.Join(append(where, "--env", cmd.Env), " ")
	switch cmd.Name {
	case "scale":
		return []string{fmt.Sprintf("/scale %s %s", before["replicas"], tail)}, nil
	case "suspend":
		return []string{"/resume " + tail}, nil
	case "set-image":
		line := "/set-image " + before["image"]
		if cmd.Image.Container != "" {
			line += " --container " + cmd.Image.Container
		}
		return []string{line + " " + tail}, nil
	case "config":
		var set, unset []string
		for _, kv := range cmd.Set {
			if v, ok := before["config:"+kv.Key]; ok {
				set = append(set, shellQuote(kv.Key+"="+v))
			} else {
				unset = append(unset, kv.Key)
			}
		}
		var out []string
		if len(set) > 0 {
			out = append(out, "/config set "+strings.Join(set, " ")+" "+tail)
		}
		if len(unset) > 0 {
			out = append(out, "/config unset "+strings.Join(unset, " ")+" "+tail)
		}
		return out, nil
	case "freeze":
		if before["freeze"] != "" {
			return nil, Errorf(NoChange, "%s was frozen before this freeze; nothing to restore", cmd.Env)
		}
		return []string{"/unfreeze " + cmd.Env}, nil
	}
	return nil, Errorf(Invalid, "/%s cannot be time-boxed", cmd.Name)
}

// RestoreCommands parses the lines of Restore with the registry.
func RestoreCommands(lines []string) ([]command.Command, error) {
	out := make([]command.Command, 0, len(lines))
	for _, l := range lines {
		c, err := commands.ParseLine(l)
		if err != nil {
			return nil, &Error{Code: Internal, Msg: fmt.Sprintf("the restoring command %q does not parse", l), Err: err}
		}
		out = append(out, c)
	}
	return out, nil
}

// shellQuote quotes a word for the command parser when it holds anything but safe
// characters.
func shellQuote(s string) string {
	if s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || slices.Contains([]rune("-_.=/:@+,"), r))
	}) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
}
