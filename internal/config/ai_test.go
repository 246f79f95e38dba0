package config

import (
	"strings"
	"testing"
	"time"
)

func baseEnv(t *testing.T, extra map[string]string) map[string]string {
	t.Helper()
	env := map[string]string{
		"GITHUB_APP_INTEGRATION_ID": "42",
		"GITHUB_APP_WEBHOOK_SECRET": "s3cret",
		"GITHUB_APP_PRIVATE_KEY":    testKey(t),
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

func TestAIOffByDefault(t *testing.T) {
	c, err := Load("", envMap(baseEnv(t, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if c.AI.Enabled() || c.AI.Timeout != 0 || c.AI.Token != "" {
		t.Fatalf("ai should be off and unset: %+v", c.AI)
	}
}

func TestAIFromFileAndEnv(t *testing.T) {
	path := writeFile(t, "daytwo.yml", `
ai:
  endpoint: https://api.openai.com/v1
  model: gpt-4o-mini
  token_env: OPENAI_API_KEY
`)
	c, err := Load(path, envMap(baseEnv(t, map[string]string{"OPENAI_API_KEY": " sk-test \n"})))
	if err != nil {
		t.Fatal(err)
	}
	if !c.AI.Enabled() || c.AI.Model != "gpt-4o-mini" || c.AI.Token != "sk-test" || time.Duration(c.AI.Timeout) != DefaultAITimeout || c.AI.Azure() {
		t.Fatalf("ai: %+v", c.AI)
	}

	// The environment overrides every key, and the token comes from the variable it names.
	c, err = Load(path, envMap(baseEnv(t, map[string]string{
		"DAYTWO_AI_ENDPOINT": "https://acme.openai.azure.com", "DAYTWO_AI_MODEL": "daytwo-gpt4o",
		"DAYTWO_AI_TOKEN_ENV": "AZURE_OPENAI_KEY", "AZURE_OPENAI_KEY": "azkey", "DAYTWO_AI_TIMEOUT": "45s",
		"DAYTWO_AI_API_VERSION": "2024-06-01", "OPENAI_API_KEY": "unused",
	})))
	if err != nil {
		t.Fatal(err)
	}
	want := AI{Endpoint: "https://acme.openai.azure.com", Model: "daytwo-gpt4o", TokenEnv: "AZURE_OPENAI_KEY", Token: "azkey", Timeout: Duration(45 * time.Second), APIVersion: "2024-06-01"}
	if c.AI != want || !c.AI.Azure() {
		t.Fatalf("ai: %+v, want %+v", c.AI, want)
	}

	// Ollama and vLLM need no token.
	c, err = Load("", envMap(baseEnv(t, map[string]string{"DAYTWO_AI_ENDPOINT": "http://ollama:11434/v1", "DAYTWO_AI_MODEL": "llama3.1"})))
	if err != nil || c.AI.Token != "" || !c.AI.Enabled() {
		t.Fatalf("ollama: %+v, %v", c, err)
	}
}

func TestAIRefusals(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		env        map[string]string
		want       string
	}{
		{"settings without endpoint", "ai:\n  model: gpt-4o\n", nil, "ai settings are given but no endpoint"},
		{"no model", "ai:\n  endpoint: https://api.openai.com/v1\n", nil, "ai.model is not"},
		{"not a URL", "ai:\n  endpoint: api.openai.com\n  model: m\n", nil, `ai.endpoint "api.openai.com" is not an http(s) base URL`},
		{"credentials in URL", "ai:\n  endpoint: https://u:p@example.com/v1\n  model: m\n", nil, "without query or credentials"},
		{"token in token_env", "ai:\n  endpoint: https://api.openai.com/v1\n  model: m\n  token_env: sk-abc123-def\n", nil, "never the token itself"},
		{"token variable unset", "ai:\n  endpoint: https://api.openai.com/v1\n  model: m\n  token_env: OPENAI_API_KEY\n", nil, "names OPENAI_API_KEY, which is not set or empty"},
		{"token variable empty", "ai:\n  endpoint: https://api.openai.com/v1\n  model: m\n  token_env: OPENAI_API_KEY\n", map[string]string{"OPENAI_API_KEY": " "}, "which is not set or empty"},
		{"azure without key", "ai:\n  endpoint: https://acme.openai.azure.com\n  model: m\n  api_version: 2024-06-01\n", nil, "Azure OpenAI, which needs a key"},
		{"bad timeout in file", "ai:\n  endpoint: https://x/v1\n  model: m\n  timeout: soon\n", nil, `ai.timeout: line 4: "soon" is not a duration`},
		{"negative timeout", "ai:\n  endpoint: https://x/v1\n  model: m\n  timeout: -1s\n", nil, "ai.timeout must be positive"},
		{"bad timeout in env", "", map[string]string{"DAYTWO_AI_TIMEOUT": "20"}, `DAYTWO_AI_TIMEOUT="20" is not a duration`},
		{"the token itself in the file", "ai:\n  endpoint: https://x/v1\n  model: m\n  token: sk-abc\n", nil, "field token not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := ""
			if tc.file != "" {
				path = writeFile(t, "daytwo.yml", tc.file)
			}
			_, err := Load(path, envMap(baseEnv(t, tc.env)))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}
