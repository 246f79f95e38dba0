package command

import (
	"reflect"
	"strings"
	"sync"
	"testing"
)

// want is the expected outcome of one command line: a command, or a reply whose message
// holds every one of the substrings.
type want struct {
	cmd   *Command
	reply []string
}

func cmd(c Command) want            { return want{cmd: &c} }
func replyWith(subs ...string) want { return want{reply: subs} }

func TestParse(t *testing.T) {
	digest := "sha256:" + strings.Repeat("ab", 32)
	tests := []struct {
		name string
		text string
		want []want
	}{
		// The contract examples.
		{"promote positional", "/promote staging", []want{cmd(Command{Name: "promote", Line: "/promote staging", Env: "staging"})}},
		{"restart", "/restart", []want{cmd(Command{Name: "restart", Line: "/restart"})}},
		{"scale with env", "/scale 3 --env prod", []want{cmd(Command{Name: "scale", Line: "/scale 3 --env prod", Replicas: 3, Env: "prod"})}},
		{"verb case-insensitive", "/SCALE 2", []want{cmd(Command{Name: "scale", Line: "/SCALE 2", Replicas: 2})}},
		{"flags before positional", "/scale -e prod -s checkout 0", []want{cmd(Command{Name: "scale", Line: "/scale -e prod -s checkout 0", Env: "prod", Service: "checkout"})}},
		{"flag=value", "/scale 1 --env=prod --service=checkout", []want{cmd(Command{Name: "scale", Line: "/scale 1 --env=prod --service=checkout", Replicas: 1, Env: "prod", Service: "checkout"})}},
		{"short flag=value", "/restart -e=prod", []want{cmd(Command{Name: "restart", Line: "/restart -e=prod", Env: "prod"})}},
		{"dry run and break glass", "/restart --dry-run --break-glass", []want{cmd(Command{Name: "restart", Line: "/restart --dry-run --break-glass", DryRun: true, BreakGlass: true})}},
		{"switch=false", "/restart --dry-run=false", []want{cmd(Command{Name: "restart", Line: "/restart --dry-run=false"})}},
		{"promote from", "/promote prod --from staging", []want{cmd(Command{Name: "promote", Line: "/promote prod --from staging", Env: "prod", From: "staging"})}},
		{"promote --env synonym", "/promote --env prod", []want{cmd(Command{Name: "promote", Line: "/promote --env prod", Env: "prod"})}},
		{"promote same env twice", "/promote prod -e prod", []want{cmd(Command{Name: "promote", Line: "/promote prod -e prod", Env: "prod"})}},
		{"promote conflicting env", "/promote prod --env staging", []want{replyWith("given twice", `"prod"`, "--env staging")}},
		{"promote needs target", "/promote", []want{replyWith("name the environment to promote into")}},
		{"promote two targets", "/promote prod staging", []want{replyWith("one environment")}},
		{"set-image tag", "/set-image v1.2.3", []want{cmd(Command{Name: "set-image", Line: "/set-image v1.2.3", Image: ImageRef{Tag: "v1.2.3"}})}},
		{"set-image container and digest", "/set-image web=ghcr.io/acme/web@" + digest, []want{cmd(Command{Name: "set-image", Line: "/set-image web=ghcr.io/acme/web@" + digest, Image: ImageRef{Container: "web", Name: "ghcr.io/acme/web", Digest: digest}})}},
		{"set-image registry port", "/set-image localhost:5000/acme/web:1.0", []want{cmd(Command{Name: "set-image", Line: "/set-image localhost:5000/acme/web:1.0", Image: ImageRef{Name: "localhost:5000/acme/web", Tag: "1.0"}})}},
		{"set-image --container", "/set-image 1.6.0 --container worker", []want{cmd(Command{Name: "set-image", Line: "/set-image 1.6.0 --container worker", Image: ImageRef{Container: "worker", Tag: "1.6.0"}})}},
		{"set-image container twice, same", "/set-image --container api api=1.6.0", []want{cmd(Command{Name: "set-image", Line: "/set-image --container api api=1.6.0", Image: ImageRef{Container: "api", Tag: "1.6.0"}})}},
		{"set-image container twice, different", "/set-image api=1.6.0 --container worker", []want{replyWith("the container is given twice, as api= and as --container worker")}},
		{"set-image --workload", "/set-image 1.6.0 -w payments-worker", []want{cmd(Command{Name: "set-image", Line: "/set-image 1.6.0 -w payments-worker", Workload: "payments-worker", Image: ImageRef{Tag: "1.6.0"}})}},
		{"restart --workload kind/name", "/restart --workload StatefulSet/ledger-staging", []want{cmd(Command{Name: "restart", Line: "/restart --workload StatefulSet/ledger-staging", Workload: "StatefulSet/ledger-staging"})}},
		{"scale --workload dotted name", "/scale 2 --workload api.v2", []want{cmd(Command{Name: "scale", Line: "/scale 2 --workload api.v2", Replicas: 2, Workload: "api.v2"})}},
		{"scale --workload bad name", "/scale 2 --workload Payments_API", []want{replyWith(`the workload name "Payments_API" is not valid`)}},
		{"restart --workload path", "/restart --workload a/b/c", []want{replyWith(`the workload name "b/c" is not valid`)}},
		{"redeploy has no --workload", "/redeploy --workload api", []want{replyWith("unknown flag --workload")}},
		{"set-image bad tag", "/set-image .hidden", []want{replyWith(`".hidden" is not a valid tag`)}},
		{"set-image short digest", "/set-image web@sha256:abc", []want{replyWith("has 3 hex digits")}},
		{"config set", `/config set A=1 MSG='hello world' EMPTY=`, []want{cmd(Command{Name: "config", Line: `/config set A=1 MSG='hello world' EMPTY=`, Set: []KeyValue{{Key: "A", Value: "1"}, {Key: "MSG", Value: "hello world"}, {Key: "EMPTY", Value: ""}}})}},
		{"config set double quotes", `/config set MSG="say \"hi\""`, []want{cmd(Command{Name: "config", Line: `/config set MSG="say \"hi\""`, Set: []KeyValue{{Key: "MSG", Value: `say "hi"`}}})}},
		{"config unset", "/config unset A b.c", []want{cmd(Command{Name: "config", Line: "/config unset A b.c", Unset: []string{"A", "b.c"}})}},
		{"config dash key after --", "/config set --env prod -- -x=1", []want{cmd(Command{Name: "config", Line: "/config set --env prod -- -x=1", Env: "prod", Set: []KeyValue{{Key: "-x", Value: "1"}}})}},
		{"config duplicate key", "/config set A=1 A=2", []want{replyWith("the key A is given twice")}},
		{"config no op", "/config A=1", []want{replyWith("write set before the literals")}},
		{"config op typo", "/config sett A=1", []want{replyWith(`did you mean set?`)}},
		{"config bad key", "/config set A/B=1", []want{replyWith(`config key "A/B"`)}},
		{"config missing =", "/config set A", []want{replyWith(`"A" is not KEY=VALUE`)}},
		{"config unset with value", "/config unset A=1", []want{replyWith("keys only")}},
		{"config empty set", "/config set", []want{replyWith("at least one KEY=VALUE")}},
		{"unterminated quote", `/config set MSG='oops`, []want{replyWith("single quote (') is not closed")}},
		{"unterminated double quote", `/freeze --reason "oops`, []want{replyWith(`double quote (") is not closed`)}},
		{"trailing backslash", `/restart \`, []want{replyWith("ends with a backslash")}},
		{"rollback", "/rollback --to ABCDEF1", []want{cmd(Command{Name: "rollback", Line: "/rollback --to ABCDEF1", To: "abcdef1"})}},
		{"rollback positional commit", "/rollback abcdef1", []want{replyWith("--to abcdef1")}},
		{"rollback short commit", "/rollback --to abc", []want{replyWith("has 3 digits")}},
		{"freeze unquoted reason", "/freeze --env prod --reason release 2.4 in progress", []want{cmd(Command{Name: "freeze", Line: "/freeze --env prod --reason release 2.4 in progress", Env: "prod", Reason: "release 2.4 in progress"})}},
		{"freeze reason then flag", "/freeze --reason big  launch -e prod", []want{cmd(Command{Name: "freeze", Line: "/freeze --reason big  launch -e prod", Env: "prod", Reason: "big launch"})}},
		{"freeze quoted reason", `/freeze --reason "incident  #231 -- see log"`, []want{cmd(Command{Name: "freeze", Line: `/freeze --reason "incident  #231 -- see log"`, Reason: "incident  #231 -- see log"})}},
		{"freeze positional env", "/freeze prod", []want{cmd(Command{Name: "freeze", Line: "/freeze prod", Env: "prod"})}},
		{"freeze env and reason", "/freeze prod --reason release 2.4", []want{cmd(Command{Name: "freeze", Line: "/freeze prod --reason release 2.4", Env: "prod", Reason: "release 2.4"})}},
		{"freeze same env twice", "/freeze prod -e prod", []want{cmd(Command{Name: "freeze", Line: "/freeze prod -e prod", Env: "prod"})}},
		{"freeze conflicting env", "/freeze prod --env staging", []want{replyWith("given twice", `"prod"`, "--env staging")}},
		{"freeze reason without flag", "/freeze release week", []want{replyWith("/freeze takes one environment, but got 2 words; give a reason with --reason <text>")}},
		{"freeze bad env", "/freeze Prod", []want{replyWith(`must be lower case: "prod"; give a reason with --reason`)}},
		{"unfreeze positional env", "/unfreeze prod", []want{cmd(Command{Name: "unfreeze", Line: "/unfreeze prod", Env: "prod"})}},
		{"unfreeze conflicting env", "/unfreeze prod -e dev", []want{replyWith("given twice")}},
		{"unfreeze two envs", "/unfreeze prod dev", []want{replyWith("/unfreeze takes one environment, but got 2 words.")}},
		{"freeze words after reason are the reason", `/freeze --reason "big launch" prod`, []want{cmd(Command{Name: "freeze", Line: `/freeze --reason "big launch" prod`, Reason: "big launch prod"})}},
		{"freeze reason typo flag", "/freeze --reason window --evn prod", []want{replyWith("unknown flag --evn; did you mean --env?")}},
		{"freeze empty reason", "/freeze --reason", []want{replyWith("--reason needs a value")}},
		{"unfreeze", "/unfreeze -e prod", []want{cmd(Command{Name: "unfreeze", Line: "/unfreeze -e prod", Env: "prod"})}},
		{"suspend resume redeploy", "/suspend\n/resume\n/redeploy", []want{cmd(Command{Name: "suspend", Line: "/suspend"}), cmd(Command{Name: "resume", Line: "/resume"}), cmd(Command{Name: "redeploy", Line: "/redeploy"})}},
		{"help", "/help", []want{cmd(Command{Name: "help", Line: "/help"})}},
		{"help topic", "/help /Scale", []want{cmd(Command{Name: "help", Line: "/help /Scale", Topic: "scale"})}},
		{"help unknown topic", "/help scael", []want{replyWith("did you mean scale?")}},
		{"--help", "/scale --help", []want{cmd(Command{Name: "help", Line: "/scale --help", Topic: "scale"})}},
		{"-h", "/config -h", []want{cmd(Command{Name: "help", Line: "/config -h", Topic: "config"})}},

		// Scale arguments.
		{"scale word", "/scale three", []want{replyWith(`"three" is not a number`)}},
		{"scale negative", "/scale -1", []want{replyWith(`"-1" is negative`)}},
		{"scale too many", "/scale 1001", []want{replyWith("limit of 1000")}},
		{"scale overflow", "/scale 99999999999999999999999", []want{replyWith("limit of 1000")}},
		{"scale missing", "/scale --env prod", []want{replyWith("give the number of replicas")}},
		{"scale two numbers", "/scale 1 2", []want{replyWith("one number")}},

		// Flags.
		{"unknown flag typo", "/scale 3 --evn prod", []want{replyWith("unknown flag --evn; did you mean --env?")}},
		{"unknown flag far", "/scale 3 --colour red", []want{replyWith("unknown flag --colour")}},
		{"dry-run typo", "/restart --dryrun", []want{replyWith("did you mean --dry-run?")}},
		{"single dash long", "/restart -env prod", []want{replyWith("long flags take two dashes: --env")}},
		{"glued short", "/restart -eprod", []want{replyWith("-e prod")}},
		{"missing value", "/restart --env", []want{replyWith("--env needs a value")}},
		{"flag as value", "/restart --env --dry-run", []want{replyWith("--env needs a value")}},
		{"repeated flag", "/restart -e prod --env prod", []want{replyWith("--env is given twice")}},
		{"switch with value", "/restart --dry-run=yes", []want{replyWith("is a switch")}},
		{"help has no dry-run", "/help --dry-run", []want{replyWith("unknown flag --dry-run")}},
		{"args to no-arg command", "/restart prod", []want{replyWith("takes no arguments", "--env prod")}},

		// Names.
		{"upper-case env", "/restart --env Prod", []want{replyWith(`must be lower case: "prod"`)}},
		{"path env", "/restart --env ../prod", []want{replyWith(`must not contain ".."`)}},
		{"absolute env", "/restart --env /etc", []want{replyWith("is a path")}},
		{"slash in service", "/restart -s a/b", []want{replyWith("must not contain a slash")}},
		{"cyrillic lookalike", "/restart --env prоd", []want{replyWith("U+043E", `only looks like "o"`)}},
		{"full-width letters", "/restart --env ｐrod", []want{replyWith("U+FF50", `only looks like "p"`)}},
		{"long name", "/restart --env " + strings.Repeat("a", 64), []want{replyWith("the limit is 63")}},
		{"underscore", "/restart --env my_env", []want{replyWith("lower-case letters, digits and -")}},

		// Unknown verbs.
		{"verb typo", "/scael 3", []want{replyWith("/scael is not a command; did you mean /scale?")}},
		{"verb transposition", "/restrat", []want{replyWith("did you mean /restart?")}},
		{"verb prefix", "/redep", []want{replyWith("did you mean /redeploy?")}},
		{"far verb ignored", "/usr/bin/env is where env lives", nil},
		{"path ignored", "/ etc/passwd", nil},
		{"other bot's command", "/lgtm\n/hold\n/approve\n/retest\n/assign @me", nil},
		{"number after slash", "/50 of them", nil},
		{"double slash", "// a comment", nil},

		// Where commands may be.
		{"prose", "Could you restart it?\nThanks!", nil},
		{"not at line start", "please run /restart now", nil},
		{"indented", "   /restart\t", []want{cmd(Command{Name: "restart", Line: "/restart"})}},
		{"backtick fence", "```\n/restart\n```\n", nil},
		{"backtick fence info", "```sh\n/restart\n```", nil},
		{"tilde fence", "~~~\n/restart\n~~~", nil},
		{"indented fence", "- list\n  ```\n  /restart\n  ```", nil},
		{"longer fence", "````\n```\n/restart\n````\n/scale 1", []want{cmd(Command{Name: "scale", Line: "/scale 1", Replicas: 1})}},
		{"unclosed fence", "```\n/restart", nil},
		{"after fence", "```\ncode\n```\n/restart", []want{cmd(Command{Name: "restart", Line: "/restart"})}},
		{"tilde not closed by backticks", "~~~\n```\n/restart\n~~~", nil},
		{"inline code", "`/restart`", nil},
		{"wrapped in backticks with text", "run `/restart` please", nil},
		{"multi-line code span", "see `the\n/restart\ncommand`", nil},
		{"unmatched backtick", "a ` b\n/restart", []want{cmd(Command{Name: "restart", Line: "/restart"})}},
		{"inline fence-like", "```inline``` text\n/restart", []want{cmd(Command{Name: "restart", Line: "/restart"})}},
		{"quoted", "> /restart", nil},
		{"nested quote", "> > /restart", nil},
		{"indented quote", "  >/restart", nil},
		{"reply after quote", "> /scale 0\n\n/scale 2", []want{cmd(Command{Name: "scale", Line: "/scale 2", Replicas: 2})}},
		{"html comment", "<!--\n/restart\n-->\n/suspend", []want{cmd(Command{Name: "suspend", Line: "/suspend"})}},
		{"one-line html comment", "<!-- /restart -->", nil},
		{"inline html comment", "text <!--\n/restart\n--> more", nil},
		{"unclosed html comment", "<!--\n/restart", nil},

		// The text is read as CommonMark: what GitHub shows as code, HTML or a quote holds no
		// command.
		{"indented code", "    /scale 3", nil},
		{"indented code after prose", "Logs:\n\n    /scale 3\n    /restart\n\n/suspend", []want{cmd(Command{Name: "suspend", Line: "/suspend"})}},
		{"tab-indented code", "\t/scale 3", nil},
		{"indented code in a list item", "- step\n\n      /restart", nil},
		{"indented line continuing a paragraph", "please run\n    /scale 3", []want{cmd(Command{Name: "scale", Line: "/scale 3", Replicas: 3})}},
		{"html comment, one line", "<!-- /scale 3 -->", nil},
		{"html comment, blank line inside", "<!--\n/scale 3\n\n/restart\n-->\n/suspend", []want{cmd(Command{Name: "suspend", Line: "/suspend"})}},
		{"html comment then command", "<!-- from the template -->\n/restart", []want{cmd(Command{Name: "restart", Line: "/restart"})}},
		{"html block", "<div>\n/restart\n</div>", nil},
		{"paragraph inside details", "<details>\n<summary>why</summary>\n\n/restart\n\n</details>", []want{cmd(Command{Name: "restart", Line: "/restart"})}},
		{"quoted second line", "> why?\n> /restart", nil},
		{"quoted after a lazy line", "> why?\nbecause\n> /restart", nil},
		{"lazy line after a quote is the writer's", "> can you restart it?\n/restart", []want{cmd(Command{Name: "restart", Line: "/restart"})}},
		{"quote in a list", "- > /restart", nil},
		{"list item", "- /restart", nil},
		{"ordered list item", "1. /restart\n2) /suspend", nil},
		{"task list item", "- [ ] /restart", nil},
		{"nested list item", "- a\n  - /restart", nil},
		{"line continuing a list item", "- first, as agreed:\n  /restart", []want{cmd(Command{Name: "restart", Line: "/restart"})}},
		{"lazy line after a list item", "- done\n/restart", []want{cmd(Command{Name: "restart", Line: "/restart"})}},
		{"setext heading", "/scale 3\n---", []want{cmd(Command{Name: "scale", Line: "/scale 3", Replicas: 3})}},
		{"atx heading", "# /restart", nil},
		{"table row", "| env | n |\n| --- | --- |\n/restart", nil},
		{"image description", "![graph\n/restart](x.png)", nil},
		{"link reference definition", "[runbook]:\n/restart", nil},
		{"code span opened earlier", "see ``the\n/restart`` command", nil},
		{"code span closed earlier", "`code` then\n/restart", []want{cmd(Command{Name: "restart", Line: "/restart"})}},
		{"escaped slash", "\\/restart", nil},

		// Line endings and Unicode.
		{"crlf", "/scale 3 --env prod\r\n/restart\r\n", []want{cmd(Command{Name: "scale", Line: "/scale 3 --env prod", Replicas: 3, Env: "prod"}), cmd(Command{Name: "restart", Line: "/restart"})}},
		{"crlf fence", "```\r\n/restart\r\n```\r\n/suspend\r\n", []want{cmd(Command{Name: "suspend", Line: "/suspend"})}},
		{"crlf indented code", "text\r\n\r\n    /restart\r\n", nil},
		{"crlf html comment", "<!--\r\n/restart\r\n-->\r\n", nil},
		{"crlf quote", "> a\r\n> /restart\r\n", nil},
		{"lone cr", "/restart\r/suspend", []want{cmd(Command{Name: "restart", Line: "/restart"}), cmd(Command{Name: "suspend", Line: "/suspend"})}},
		{"bom", "\ufeff/restart", []want{cmd(Command{Name: "restart", Line: "/restart"})}},
		{"full-width slash", "／restart", []want{replyWith("U+FF0F", "only looks like a slash")}},
		{"full-width slash unknown word", "／whatever", nil},
		{"rtl mark before slash", "\u200f/restart", []want{replyWith("U+200F at position 1")}},
		{"zero-width before unknown word", "\u200b/usr/bin", nil},
		{"zero-width in verb", "/re\u200bstart", []want{replyWith("U+200B")}},
		{"zero-width in args", "/restart --env pr\u200dod", []want{replyWith("U+200D")}},
		{"rtl override", "/restart --env \u202edorp", []want{replyWith("U+202E")}},
		{"arabic name", "/restart --env بيئة", []want{replyWith("non-ASCII")}},
		{"nbsp separates", "/scale\u00a03", []want{cmd(Command{Name: "scale", Line: "/scale\u00a03", Replicas: 3})}},
		{"invalid utf-8", "/restart --env \xff", []want{replyWith("U+FFFD")}},
		{"emoji in reason", "/freeze --reason 🚀 launch", []want{cmd(Command{Name: "freeze", Line: "/freeze --reason 🚀 launch", Reason: "🚀 launch"})}},

		// Several commands.
		{"several", "Let's do it:\n/scale 3 --env prod\nand\n/restart -e staging\n/scael 1", []want{
			cmd(Command{Name: "scale", Line: "/scale 3 --env prod", Replicas: 3, Env: "prod"}),
			cmd(Command{Name: "restart", Line: "/restart -e staging", Env: "staging"}),
			replyWith("did you mean /scale?"),
		}},
		{"error does not stop others", "/scale x\n/restart", []want{replyWith(`"x" is not a number`), cmd(Command{Name: "restart", Line: "/restart"})}},
		{"ten is fine", strings.Repeat("/restart\n", MaxCommands), func() []want {
			var ws []want
			for i := 0; i < MaxCommands; i++ {
				ws = append(ws, cmd(Command{Name: "restart", Line: "/restart"}))
			}
			return ws
		}()},
		{"too many", strings.Repeat("/restart\n", MaxCommands+1), []want{replyWith("more than 10 commands", "none of them was run")}},
		{"long line", "/restart --reason " + strings.Repeat("x", MaxLineLen), []want{replyWith("the limit is 4096")}},
		{"long prose line", "/" + strings.Repeat("x", 10000), nil},
		{"empty", "", nil},
	}
	r := Default()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := r.Parse(tt.text)
			if len(got) != len(tt.want) {
				t.Fatalf("Parse(%q) = %d results, want %d: %s", tt.text, len(got), len(tt.want), describe(got))
			}
			for i, w := range tt.want {
				g := got[i]
				if (g.Command == nil) == (g.Reply == nil) {
					t.Fatalf("result %d: want exactly one of Command and Reply, got %s", i, describe(got))
				}
				if w.cmd != nil {
					if g.Command == nil {
						t.Fatalf("result %d: got reply %q, want command %+v", i, g.Reply.Message, *w.cmd)
					}
					if !reflect.DeepEqual(*g.Command, *w.cmd) {
						t.Errorf("result %d:\n got %+v\nwant %+v", i, *g.Command, *w.cmd)
					}
					continue
				}
				if g.Reply == nil {
					t.Fatalf("result %d: got command %+v, want a reply", i, *g.Command)
				}
				for _, sub := range w.reply {
					if !strings.Contains(g.Reply.Message, sub) {
						t.Errorf("result %d: reply %q does not contain %q", i, g.Reply.Message, sub)
					}
				}
			}
		})
	}
}

func describe(rs []Result) string {
	var parts []string
	for _, r := range rs {
		if r.Command != nil {
			parts = append(parts, "command "+r.Command.Line)
		} else if r.Reply != nil {
			parts = append(parts, "reply "+r.Reply.Message)
		}
	}
	return "[" + strings.Join(parts, "; ") + "]"
}

func TestReplyCarriesUsageOfTheCommand(t *testing.T) {
	got := Default().Parse("/scale 3 --evn prod")
	if len(got) != 1 || got[0].Reply == nil {
		t.Fatalf("want one reply, got %s", describe(got))
	}
	rep := got[0].Reply
	if rep.Command != "scale" || rep.Line != "/scale 3 --evn prod" {
		t.Errorf("reply is about %q / %q", rep.Command, rep.Line)
	}
	if !strings.HasPrefix(rep.Usage, "/scale <n> [--workload <name>] [--for <duration>] [flags]") || !strings.Contains(rep.Usage, "--dry-run") {
		t.Errorf("usage is not /scale's:\n%s", rep.Usage)
	}
}

func TestReplyMarkdownNeutralisesMentions(t *testing.T) {
	got := Default().Parse("/restart --env @octocat")
	if len(got) != 1 || got[0].Reply == nil {
		t.Fatalf("want one reply, got %s", describe(got))
	}
	md := got[0].Reply.Markdown()
	if strings.Contains(strings.ReplaceAll(md, "`@octocat`", ""), "@octocat") && !strings.Contains(md, "```\n/restart --env @octocat\n```") {
		t.Errorf("a mention is left outside code:\n%s", md)
	}
	for _, line := range strings.Split(md, "\n") {
		if strings.Contains(line, "@octocat") && !strings.Contains(line, "`@octocat`") && line != "/restart --env @octocat" {
			t.Errorf("line %q mentions @octocat outside code", line)
		}
	}
}

func TestParseLine(t *testing.T) {
	r := Default()
	if _, err := r.ParseLine("restart"); err == nil || !strings.Contains(err.Error(), "starts with /") {
		t.Errorf("a line without a slash: err = %v", err)
	}
	_, err := r.ParseLine("/scale x --env prod")
	ue, ok := err.(*UsageError)
	if !ok {
		t.Fatalf("err = %T %v, want *UsageError", err, err)
	}
	if ue.Command != "scale" || ue.Arg != 0 || ue.Flag != "" {
		t.Errorf("UsageError = %+v, want scale, arg 0", ue)
	}
	_, err = r.ParseLine("/scale 1 --env Prod")
	if ue, ok := err.(*UsageError); !ok || ue.Flag != "env" || ue.Arg != -1 {
		t.Errorf("err = %#v, want a UsageError on flag env", err)
	}
	_, err = r.ParseLine("/nope")
	if ue, ok := err.(*UsageError); !ok || ue.Command != "" || !strings.Contains(ue.Error(), "/nope is not a command") {
		t.Errorf("unknown verb: err = %v", err)
	}
}

// One markdown parser serves every caller: parsing at once gives each the same answer.
func TestParseConcurrently(t *testing.T) {
	r := Default()
	text := typicalComment + "\n    /scale 9\n\n> /suspend\n/scale 3 --env prod\n"
	want := describe(r.Parse(text))
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				if got := describe(r.Parse(text)); got != want {
					errs <- got
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for got := range errs {
		t.Errorf("got %s, want %s", got, want)
	}
}
