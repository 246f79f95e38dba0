package command

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"/promote staging", "/scale 3 --env prod", "/config set A=1 'B=two words'", "/freeze --reason a b -e x",
		"```\n/restart\n```", "> /restart", "`a\n/restart\nb`", "<!--\n/restart\n-->", "／restart", "/re\u200bstart",
		"/set-image web=ghcr.io/a/b:1@sha256:" + strings.Repeat("a", 64), "/rollback --to abcdef1", "/help scale",
		"/scael", "/usr/bin", "/restart\r\n/suspend\r", `/config set "A=\"q\"" -- -b=1`, "~~~~\n~~~\n/restart\n~~~~\n/x",
	} {
		f.Add(s)
	}
	r := Default()
	f.Fuzz(func(t *testing.T, text string) {
		results := r.Parse(text)
		if len(results) > MaxCommands {
			t.Fatalf("%d results", len(results))
		}
		for _, res := range results {
			if (res.Command == nil) == (res.Reply == nil) {
				t.Fatalf("a result must be a command or a reply: %+v", res)
			}
			if res.Reply != nil {
				if res.Reply.Message == "" {
					t.Fatal("a reply without a message")
				}
				continue
			}
			c := *res.Command
			if _, ok := r.Lookup(c.Name); !ok {
				t.Fatalf("command %q is not registered", c.Name)
			}
			again, err := r.ParseLine(c.Line)
			if err != nil || !reflect.DeepEqual(again, c) {
				t.Fatalf("ParseLine(%q) = %+v, %v; want %+v", c.Line, again, err, c)
			}
			if whole := r.Parse(c.Line); len(whole) != 1 || whole[0].Command == nil || !reflect.DeepEqual(*whole[0].Command, c) {
				t.Fatalf("Parse(%q) = %s, want the command alone", c.Line, describe(whole))
			}
		}
	})
}

func FuzzParseIssueForm(f *testing.F) {
	set := embeddedForms(f)
	for _, form := range set.Forms() {
		values := map[string]string{"service": "web", "env": "prod", "replicas": "2", "image": "v1", "operation": "set",
			"literals": "A=1\nB=2", "to": "abcdef1", "from": "qa", "reason": "because", "dry-run": "Only show the change; do not open a pull request"}
		body := submit(form, values)
		f.Add(form.Verb, body)
		f.Add(form.Verb, strings.ReplaceAll(body, "\n", "\r\n"))
		f.Add(form.Verb, strings.ReplaceAll(body, "prod", "PROD"))
	}
	f.Add("scale", "### Replicas\n\n```\n### Service\n")
	r := Default()
	f.Fuzz(func(t *testing.T, verb, body string) {
		c, err := set.ParseIssueForm([]string{"daytwo", ActionLabelPrefix + verb}, body)
		if err != nil {
			var fe *FormError
			switch {
			case errors.Is(err, ErrNotForm):
			case errors.As(err, &fe):
				if len(fe.Problems) == 0 {
					t.Fatal("a FormError without problems")
				}
				for _, p := range fe.Problems {
					if p.Message == "" {
						t.Fatalf("a problem without a message: %+v", fe.Problems)
					}
				}
			default:
				t.Fatalf("unexpected error type %T: %v", err, err)
			}
			return
		}
		if c.Name != strings.ToLower(verb) {
			t.Fatalf("form for %q gave /%s", verb, c.Name)
		}
		again, err := r.ParseLine(c.Line)
		c.Reason = ""
		if err != nil || !reflect.DeepEqual(again, c) {
			t.Fatalf("ParseLine(%q) = %+v, %v; want %+v", c.Line, again, err, c)
		}
	})
}
