package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/spf13/pflag"
)

// retentionRule is a keep rule of a policy: its flag and its key in the API's retention.
type retentionRule struct {
	flag, key, usage string
}

// retentionRules are the keep rules in the order the API documents them.
var retentionRules = []retentionRule{
	{"keep-days", "days", "keep every backup started within N days of the newest"},
	{"keep-last", "keep_last", "keep the newest N backups"},
	{"keep-hourly", "keep_hourly", "keep the newest backup of each of the last N hours"},
	{"keep-daily", "keep_daily", "keep the newest backup of each of the last N days"},
	{"keep-weekly", "keep_weekly", "keep the newest backup of each of the last N ISO weeks"},
	{"keep-monthly", "keep_monthly", "keep the newest backup of each of the last N months"},
	{"keep-yearly", "keep_yearly", "keep the newest backup of each of the last N years"},
}

// policyFlags are the flags `grim policy create` and `grim policy update` share. Only the
// flags given change the body; the rest of it comes from --file or, for update, from the
// policy as it is.
type policyFlags struct {
	file        string
	name        string
	agent       string
	paths       []string
	excludes    []string
	schedule    string
	timezone    string
	compression string
	keep        map[string]*int // by the API's retention key
}

// register adds the flags to f.
func (p *policyFlags) register(f *pflag.FlagSet) {
	f.StringVar(&p.file, "file", "", "policy body as the API takes it, as JSON (- for stdin)")
	f.StringVar(&p.name, "name", "", "policy name, unique in the account")
	f.StringVar(&p.agent, "agent", "", "agent name or id (default: the only agent)")
	f.StringArrayVar(&p.paths, "path", nil, "absolute path to back up (repeatable)")
	f.StringArrayVar(&p.excludes, "exclude", nil, "shell glob to leave out (repeatable)")
	f.StringVar(&p.schedule, "schedule", "",
		"five-field cron expression or @hourly, @daily, @weekly, @monthly, @yearly")
	f.StringVar(&p.timezone, "timezone", "", "IANA time zone of the schedule "+
		"(default: the account's)")
	f.StringVar(&p.compression, "compression", "", "zstd, gzip or none (default zstd)")
	p.keep = make(map[string]*int, len(retentionRules))
	for _, r := range retentionRules {
		p.keep[r.key] = f.Int(r.flag, 0, r.usage+"; 0 drops the rule")
	}
}

// changed reports whether any flag of the body was given.
func (p *policyFlags) changed(f *pflag.FlagSet) bool {
	names := []string{"file", "name", "agent", "path", "exclude", "schedule", "timezone",
		"compression"}
	for _, r := range retentionRules {
		names = append(names, r.flag)
	}
	for _, n := range names {
		if f.Changed(n) {
			return true
		}
	}
	return false
}

// readFile decodes --file, from stdin when it is "-".
func (p *policyFlags) readFile(stdin io.Reader) (map[string]any, error) {
	raw, err := readInput(p.file, stdin)
	if err != nil {
		return nil, fmt.Errorf("read policy file: %w", err)
	}
	body := map[string]any{}
	if err := json.Unmarshal(raw, &body); err != nil {
		return nil, fmt.Errorf("decode policy file %s: %w", p.file, err)
	}
	return body, nil
}

func readInput(name string, stdin io.Reader) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(stdin)
	}
	return os.ReadFile(name)
}

// apply writes the flags given into body, a policy request as the API takes it. --path
// replaces the sources with one filesystem source, keeping the excludes of the first
// filesystem source unless --exclude is given too; --exclude alone sets the excludes of
// every filesystem source.
func (p *policyFlags) apply(f *pflag.FlagSet, body map[string]any) {
	set := func(flag, key string, v any) {
		if f.Changed(flag) {
			body[key] = v
		}
	}
	set("name", "name", p.name)
	set("agent", "agent", p.agent)
	set("schedule", "schedule", p.schedule)
	set("timezone", "timezone", p.timezone)
	if f.Changed("compression") {
		sub(body, "options")["compression"] = p.compression
	}
	for _, r := range retentionRules {
		if f.Changed(r.flag) {
			sub(body, "retention")[r.key] = *p.keep[r.key]
		}
	}
	if f.Changed("path") {
		source := map[string]any{"type": "filesystem", "paths": p.paths}
		if old := firstFilesystem(body); old != nil && old["exclude"] != nil {
			source["exclude"] = old["exclude"]
		}
		body["sources"] = []any{source}
	}
	if f.Changed("exclude") {
		for _, s := range sourcesOf(body) {
			if s["type"] == "filesystem" {
				s["exclude"] = p.excludes
			}
		}
	}
}

// sub returns body[key] as an object, making it when absent.
func sub(body map[string]any, key string) map[string]any {
	if m, ok := body[key].(map[string]any); ok {
		return m
	}
	m := map[string]any{}
	body[key] = m
	return m
}

// sourcesOf returns the sources of body that are objects.
func sourcesOf(body map[string]any) []map[string]any {
	list, _ := body["sources"].([]any)
	var out []map[string]any
	for _, s := range list {
		if m, ok := s.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func firstFilesystem(body map[string]any) map[string]any {
	for _, s := range sourcesOf(body) {
		if s["type"] == "filesystem" {
			return s
		}
	}
	return nil
}

// requestOf turns a policy as the API shows it into the body that PUT takes, for the
// flags to change. Options the API refuses in a policy or fixes anyway (retention_days,
// encryption) are left out. Database sources go back without their passwords, which the
// controller keeps for the same connection.
func requestOf(view map[string]any) map[string]any {
	body := map[string]any{"name": view["name"], "agent": view["agent_id"],
		"sources": view["sources"], "schedule": view["schedule"],
		"timezone": view["timezone"]}
	if r, ok := view["retention"].(map[string]any); ok {
		body["retention"] = r
	}
	if opts, ok := view["options"].(map[string]any); ok {
		kept := map[string]any{}
		for _, k := range []string{"compression", "notify_on_completion"} {
			if v, ok := opts[k]; ok {
				kept[k] = v
			}
		}
		body["options"] = kept
	}
	return body
}
