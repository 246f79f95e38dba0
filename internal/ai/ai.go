// Package ai asks an OpenAI-compatible chat-completions API (OpenAI, Azure OpenAI, Ollama,
// vLLM) for a short summary of, or an answer from, facts daytwo gathered. The prompt holds
// the facts and the question only, with anything like a secret removed; the model is told
// to answer from them alone. It never acts: the commands it suggests are returned only
// when they parse. Any failure is an error, and the caller shows the facts alone.
package ai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"
	openai "github.com/sashabaranov/go-openai"

	"github.com/daytwo-dev/daytwo/internal/config"
)

// Fact is one group of facts daytwo gathered, e.g. a service's status.
type Fact struct {
	Title string
	Lines []string
}

// Answer is what the model wrote: plain text, and the commands it suggests (each one parses).
type Answer struct {
	Text     string
	Commands []string
}

// Limits on what is sent and kept.
const (
	maxPromptBytes = 48 << 10 // the facts of a prompt; the rest is cut
	maxTextRunes   = 2000     // the answer's text
	maxCommands    = 5        // suggested commands kept
	maxAnswerToken = 700      // asked of the model
)

// ErrRefused is returned when the model declines to answer or its answer was filtered.
var ErrRefused = errors.New("the model refused to answer")

// Client asks one model. A nil *Client is AI turned off: its methods say so.
type Client struct {
	api     *openai.Client
	model   string
	timeout time.Duration
	parse   func(string) error
	verbs   []string
}

// ErrOff is returned by a nil Client.
var ErrOff = errors.New("no AI endpoint is configured")

// New returns a client of the endpoint cfg names, or nil when cfg turns AI off. parse
// checks a suggested command line; those it refuses are dropped.
func New(cfg config.AI, parse func(line string) error) (*Client, error) {
	if !cfg.Enabled() {
		return nil, nil
	}
	if parse == nil {
		return nil, errors.New("ai: a parser of suggested commands is required")
	}
	timeout := time.Duration(cfg.Timeout)
	if timeout <= 0 {
		timeout = config.DefaultAITimeout
	}
	var oc openai.ClientConfig
	if cfg.Azure() {
		// /openai/deployments/<model>/chat/completions?api-version=… with the api-key header.
		oc = openai.DefaultAzureConfig(cfg.Token, strings.TrimRight(cfg.Endpoint, "/"))
		oc.APIVersion = cfg.APIVersion
		oc.AzureModelMapperFunc = func(model string) string { return model } // the deployment as configured
	} else {
		oc = openai.DefaultConfig(cfg.Token)
		oc.BaseURL = strings.TrimRight(cfg.Endpoint, "/")
	}
	oc.HTTPClient = &http.Client{Timeout: timeout}
	return &Client{api: openai.NewClientWithConfig(oc), model: cfg.Model, timeout: timeout, parse: parse}, nil
}

// WithVerbs sets the verbs the model may suggest commands with ("rollback", "restart");
// without them it is told to suggest none. It returns c, and is safe on a nil Client.
func (c *Client) WithVerbs(verbs ...string) *Client {
	if c != nil {
		c.verbs = slices.Clone(verbs)
	}
	return c
}

// Summarize writes a short plain-language summary and probable cause of subject (an
// incident, say) from facts.
func (c *Client) Summarize(ctx context.Context, subject string, facts []Fact) (Answer, error) {
	task := "Write a short plain-language summary of the situation below and its most probable cause, as the facts show it.\n\nSubject: " + Redact(oneLine(subject))
	return c.complete(ctx, task, facts)
}

// Ask answers question from facts.
func (c *Client) Ask(ctx context.Context, question string, facts []Fact) (Answer, error) {
	task := "Answer the question below from the facts.\n\nQuestion: " + Redact(oneLine(question))
	return c.complete(ctx, task, facts)
}

// reply is the JSON answer the model is asked for.
type reply struct {
	Text     string   `json:"text"`
	Commands []string `json:"commands"`
}

func (c *Client) complete(ctx context.Context, task string, facts []Fact) (Answer, error) {
	if c == nil {
		return Answer{}, ErrOff
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req := openai.ChatCompletionRequest{
		Model: c.model,
		Messages: []openai.ChatCompletionMessage{
			{Role: openai.ChatMessageRoleSystem, Content: c.system()},
			{Role: openai.ChatMessageRoleUser, Content: task + "\n\n" + factsText(facts)},
		},
		//lint:ignore SA1019 Ollama, vLLM and older Azure API versions read max_tokens, not max_completion_tokens.
		MaxTokens:      maxAnswerToken,
		Temperature:    0.1,
		ResponseFormat: &openai.ChatCompletionResponseFormat{Type: openai.ChatCompletionResponseFormatTypeJSONObject},
	}
	if openai.NewReasoningValidator().Validate(req) != nil {
		// Reasoning models (o1, o3, o4, gpt-5…) take neither max_tokens nor a temperature,
		// and spend tokens thinking before they answer.
		//lint:ignore SA1019 clearing the field the other models read.
		req.MaxTokens, req.Temperature, req.MaxCompletionTokens = 0, 0, 4*maxAnswerToken
	}
	resp, err := c.api.CreateChatCompletion(ctx, req)
	if err != nil {
		return Answer{}, describe(err)
	}
	if len(resp.Choices) == 0 {
		return Answer{}, errors.New("ai: the answer holds no choice")
	}
	choice := resp.Choices[0]
	if choice.Message.Refusal != "" || choice.FinishReason == openai.FinishReasonContentFilter {
		return Answer{}, ErrRefused
	}
	r, err := decode(choice.Message.Content)
	if err != nil {
		return Answer{}, err
	}
	a := Answer{Text: strings.TrimSpace(r.Text)}
	if a.Text == "" {
		return Answer{}, errors.New("ai: the answer is empty")
	}
	if n := []rune(a.Text); len(n) > maxTextRunes {
		a.Text = string(n[:maxTextRunes]) + "…"
	}
	a.Commands = c.check(ctx, r.Commands)
	return a, nil
}

// system is the instruction: the facts alone, no acting, commands only with the verbs.
func (c *Client) system() string {
	var b strings.Builder
	b.WriteString("You help people operate services that run on Kubernetes and are deployed from a GitOps repository by daytwo and Argo CD. ")
	b.WriteString("Use only the facts in the user's message: do not guess versions, times, people or causes they do not show, and say so when they do not answer. ")
	b.WriteString("Be brief: at most 120 words of plain text, no markdown, no HTML, no @mentions. You cannot act. ")
	if len(c.verbs) > 0 {
		fmt.Fprintf(&b, "You may suggest at most %d commands a person could reply with, each a complete line starting with one of these verbs: /%s; ", maxCommands, strings.Join(c.verbs, ", /"))
		b.WriteString("name the service and environment with --service and --env. Suggest none when none would help. ")
	} else {
		b.WriteString("Suggest no commands. ")
	}
	b.WriteString(`Reply with one JSON object: {"text": "your answer", "commands": ["/verb ..."]}.`)
	return b.String()
}

// factsText lays out the facts for the prompt, redacted and within maxPromptBytes.
func factsText(facts []Fact) string {
	var b strings.Builder
	b.WriteString("Facts:\n")
	for _, f := range facts {
		b.WriteString("\n## " + oneLine(f.Title) + "\n")
		for _, l := range f.Lines {
			b.WriteString(l + "\n")
		}
	}
	s := Redact(b.String())
	if len(s) > maxPromptBytes {
		cut := maxPromptBytes
		for cut > 0 && s[cut]&0xC0 == 0x80 { // not inside a UTF-8 sequence
			cut--
		}
		s = s[:cut] + "\n[facts cut here]\n"
	}
	return s
}

// decode reads the model's content: the JSON object asked for (possibly in a code fence),
// or plain text from a model that ignores response_format. Content that starts as JSON
// but does not decode is malformed.
func decode(content string) (reply, error) {
	s := strings.TrimSpace(content)
	if strings.HasPrefix(s, "```") {
		s = strings.TrimPrefix(strings.TrimPrefix(s, "```json"), "```")
		s = strings.TrimSpace(strings.TrimSuffix(s, "```"))
	}
	if s == "" {
		return reply{}, errors.New("ai: the answer is empty")
	}
	if !strings.HasPrefix(s, "{") {
		return reply{Text: s}, nil
	}
	var r reply
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		return reply{}, fmt.Errorf("ai: the answer is malformed JSON: %w", err)
	}
	return r, nil
}

// check keeps the suggested commands that start with a verb of the list and parse, once each.
func (c *Client) check(ctx context.Context, lines []string) []string {
	var out []string
	for _, l := range lines {
		l = strings.TrimSpace(strings.Trim(strings.TrimSpace(l), "`"))
		verb, _, _ := strings.Cut(strings.TrimPrefix(l, "/"), " ")
		var err error
		switch {
		case !strings.HasPrefix(l, "/") || !slices.Contains(c.verbs, strings.ToLower(verb)):
			err = errors.New("not one of the verbs offered")
		default:
			err = c.parse(l)
		}
		if err != nil {
			zerolog.Ctx(ctx).Warn().Str("suggested", l).Err(err).Msg("dropped a command the model suggested")
			continue
		}
		if !slices.Contains(out, l) && len(out) < maxCommands {
			out = append(out, l)
		}
	}
	return out
}

// describe turns the client's error into one that names the failure: the timeout, or the
// HTTP status. The endpoint's own message is kept out, in case it echoes the request.
func describe(err error) error {
	var apiErr *openai.APIError
	var reqErr *openai.RequestError
	switch {
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return fmt.Errorf("ai: no answer in time: %w", context.DeadlineExceeded)
	case errors.Is(err, context.Canceled):
		return err
	case errors.As(err, &apiErr):
		return fmt.Errorf("ai: the endpoint answered HTTP %d (%s)", apiErr.HTTPStatusCode, apiErr.Type)
	case errors.As(err, &reqErr):
		return fmt.Errorf("ai: the endpoint answered HTTP %d", reqErr.HTTPStatusCode)
	}
	return fmt.Errorf("ai: %w", err)
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
