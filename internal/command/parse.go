package command

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/daytwo-dev/daytwo/internal/clip"
	"github.com/daytwo-dev/daytwo/internal/markdown"
)

// Result is one outcome of a comment: a Command to run, or a Reply to post. Exactly one
// of the two is set.
type Result struct {
	Command *Command
	Reply   *Reply
}

// Reply is an answer to post instead of running a command: a usage error, a near-miss
// verb, a comment asking for too much, or an issue that could not be read as its form.
type Reply struct {
	Line    string // the line it answers, as written; "" when it is about the whole comment
	Command string // verb the line was taken for, or ""
	Message string // what is wrong and how to fix it
	Usage   string // usage text of the command, or ""
	// Form is set for an issue opened from a form that could not be read; Markdown shows
	// its problems instead of the fields above.
	Form *FormError
}

// Markdown renders the reply for a comment. The line and the usage go in fenced code
// blocks and the message is plain text, so a person's text shows as written, is never
// HTML and pings no one. It starts with a code fence: the caller puts it on a line of its
// own.
func (r Reply) Markdown() string {
	if r.Form != nil {
		return r.Form.Markdown()
	}
	return r.Render(markdown.GitHub)
}

// Render writes the reply with rd: the line as written, the message, and the usage.
// An issue form's problems are for GitHub only: see Markdown.
func (r Reply) Render(rd markdown.Renderer) string {
	var b strings.Builder
	if r.Line != "" {
		b.WriteString(rd.Fence("", r.Line))
		b.WriteString("\n")
	}
	b.WriteString(rd.Text(r.Message))
	b.WriteString("\n")
	if r.Usage != "" {
		b.WriteString("\nUsage:\n\n")
		b.WriteString(rd.Fence("", strings.TrimRight(r.Usage, "\n")))
	}
	return b.String()
}

// Parse reads a comment (or any markdown text) and returns what to do about each command
// in it, in order. An empty result means the text asks daytwo nothing: stay silent.
//
// A command is a line that starts with "/" and a registered verb (in any case), after
// white space is trimmed, outside code blocks, inline code, quotes and HTML comments.
// A line whose verb is unknown but close to a registered one gets a "did you mean" Reply;
// any other word after a slash (a path, another bot's command) is ignored. Each line
// stands alone: one line's error does not stop the others. A comment with more than
// MaxCommands commands gets a single Reply and runs none.
func (r *Registry) Parse(text string) []Result {
	if !maySlash(text) {
		return nil // most comments ask nothing: no need to read them as markdown
	}
	var out []Result
	for _, line := range candidateLines(text) {
		res, ok := r.parseCandidate(line)
		if !ok {
			continue
		}
		if len(out) == MaxCommands {
			return []Result{{Reply: &Reply{Message: fmt.Sprintf(
				"This comment holds more than %d commands, so none of them was run. Split them over several comments.", MaxCommands)}}}
		}
		out = append(out, res)
	}
	return out
}

// slashLookalikes are characters that render like "/" at the start of a line.
var slashLookalikes = []rune{'／', '∕', '⁄', '⧸', '╱'}

// maySlash reports whether a line of text starts, after white space and invisible
// characters, with a slash or a lookalike: parseCandidate takes no other line.
func maySlash(text string) bool {
	for len(text) > 0 {
		end := strings.IndexAny(text, "\r\n")
		if end < 0 {
			end = len(text)
		}
		line, rest := text[:end], text[min(end+1, len(text)):]
		first, _ := utf8.DecodeRuneInString(strings.TrimLeftFunc(line, func(r rune) bool { return unicode.IsSpace(r) || isHidden(r) }))
		if first == '/' || containsRune(slashLookalikes, first) {
			return true
		}
		text = rest
	}
	return false
}

func (r *Registry) parseCandidate(line string) (Result, bool) {
	// Invisible characters before the slash are looked through here, so that ParseLine
	// reports them instead of the line being ignored.
	bare := strings.TrimLeftFunc(line, isHidden)
	first, size := utf8.DecodeRuneInString(bare)
	if first != '/' && !containsRune(slashLookalikes, first) {
		return Result{}, false
	}
	word := firstWord(bare)
	verb := strings.ToLower(strings.Map(dropHidden, word[size:]))
	_, known := r.specs[verb]
	if first != '/' {
		if !known {
			return Result{}, false
		}
		return reply(line, verb, fmt.Sprintf("The command starts with %q (U+%04X), which only looks like a slash; write it with /.", first, first), r.Usage(verb)), true
	}
	if known {
		c, err := r.ParseLine(line)
		if err != nil {
			return replyFor(line, err), true
		}
		return Result{Command: &c}, true
	}
	if !verbRE.MatchString(verb) || len(verb) > maxSuggestLen {
		return Result{}, false
	}
	s := Suggest(verb, r.Names())
	if s == "" {
		return Result{}, false
	}
	return reply(line, "", fmt.Sprintf("/%s is not a command; did you mean /%s? (/help lists them)", verb, s), r.Usage(s)), true
}

// maxQuotedLine bounds the command line a reply quotes.
const maxQuotedLine = 200

func reply(line, verb, msg, usage string) Result {
	return Result{Reply: &Reply{Line: clip.Bytes(line, maxQuotedLine, "…"), Command: verb, Message: msg, Usage: usage}}
}

func replyFor(line string, err error) Result {
	var ue *UsageError
	if errors.As(err, &ue) {
		msg := ue.Err.Error()
		if ue.Command != "" {
			msg = "/" + ue.Command + ": " + msg
		}
		return reply(line, ue.Command, sentence(msg), ue.Usage)
	}
	return reply(line, "", sentence(err.Error()), "")
}

// sentence capitalises nothing but ends msg with a full stop when it has no end mark.
func sentence(msg string) string {
	if msg == "" {
		return msg
	}
	last, _ := utf8.DecodeLastRuneInString(msg)
	if unicode.IsPunct(last) && strings.ContainsRune(".?!", last) {
		return msg
	}
	return msg + "."
}

func containsRune(rs []rune, r rune) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}

func isSpace(r rune) bool { return unicode.IsSpace(r) }
