package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/grim-reaper/grim/controller/internal/store"
)

// dispatchBatch is how many events one transaction fans out.
const dispatchBatch = 100

// maxStringInData bounds each string of an event's data when the whole does not fit
// the payload limit.
const maxStringInData = 1024

// dispatch fans out every undispatched event, a batch per transaction, and then looks at
// what the batch said for alerts of its own.
func (s *Service) dispatch(ctx context.Context) {
	for ctx.Err() == nil {
		var failed []*store.Event
		n, err := s.st.Events().Dispatch(ctx, dispatchBatch, s.cfg.Now(),
			func(e *store.Event, hooks []store.Webhook) ([]store.Delivery, error) {
				if e.Type == store.EventBackupFailed {
					failed = append(failed, e)
				}
				return s.plan(e, hooks)
			})
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("dispatch events", "error", err)
			}
			return
		}
		// TODO: the streak is judged after the fan-out committed, so a controller dying
		// in between misses that alert (the next failure of the agent raises it); judging
		// it inside the transaction would need the store to know the alert's threshold.
		for _, e := range failed {
			s.checkFailureStreak(ctx, e)
		}
		// An alert raised from this batch is fanned out in the next round.
		if n < dispatchBatch && len(failed) == 0 {
			return
		}
	}
}

// plan is the deliveries of one event: one per webhook subscribed to its type, unless
// the job asked not to be notified.
func (s *Service) plan(e *store.Event, hooks []store.Webhook) ([]store.Delivery, error) {
	if !e.Notify {
		return nil, nil
	}
	var out []store.Delivery
	var body string
	for _, h := range hooks {
		var events []string
		if json.Unmarshal([]byte(h.Events), &events) != nil || !slices.Contains(events, e.Type) {
			continue
		}
		if body == "" {
			var err error
			if body, err = payload(e, s.cfg.MaxPayloadBytes); err != nil {
				return nil, err
			}
		}
		out = append(out, store.Delivery{WebhookID: h.ID, EventID: e.ID, EventType: e.Type,
			Payload: body})
	}
	return out, nil
}

// envelope is the body of every delivery, as the contract shapes it.
type envelope struct {
	ID        string          `json:"id"`
	Event     string          `json:"event"`
	CreatedAt string          `json:"created_at"`
	Data      json.RawMessage `json:"data"`
}

// payload is the body of e's deliveries, at most limit bytes: data whose whole does not
// fit has its long strings cut, and failing that keeps only its ids.
func payload(e *store.Event, limit int) (string, error) {
	env := envelope{ID: e.ID, Event: e.Type, CreatedAt: e.CreatedAt.UTC().Format(time.RFC3339),
		Data: json.RawMessage(e.Data)}
	for _, shrink := range []func(json.RawMessage) json.RawMessage{nil, cutStrings, onlyIDs} {
		if shrink != nil {
			env.Data = shrink(env.Data)
		}
		raw, err := json.Marshal(env)
		if err != nil {
			return "", fmt.Errorf("encode %s payload: %w", e.Type, err)
		}
		if len(raw) <= limit {
			return string(raw), nil
		}
	}
	return "", fmt.Errorf("encode %s payload: over %d bytes even without its data", e.Type,
		limit)
}

// cutStrings shortens every string in data to maxStringInData bytes.
func cutStrings(data json.RawMessage) json.RawMessage {
	var v any
	if json.Unmarshal(data, &v) != nil {
		return json.RawMessage(`{"truncated":true}`)
	}
	raw, _ := json.Marshal(cutValue(v))
	return raw
}

func cutValue(v any) any {
	switch x := v.(type) {
	case string:
		if len(x) > maxStringInData {
			return strings.ToValidUTF8(x[:maxStringInData], "") + "…"
		}
	case map[string]any:
		for k, e := range x {
			x[k] = cutValue(e)
		}
		x["truncated"] = true
	case []any:
		for i, e := range x {
			x[i] = cutValue(e)
		}
	}
	return v
}

// onlyIDs keeps the top-level "*_id" and "kind" members of data.
func onlyIDs(data json.RawMessage) json.RawMessage {
	var m map[string]any
	_ = json.Unmarshal(data, &m)
	out := map[string]any{"truncated": true}
	for k, v := range m {
		if s, ok := v.(string); ok && len(s) <= maxStringInData &&
			(strings.HasSuffix(k, "_id") || k == "kind") {
			out[k] = v
		}
	}
	raw, _ := json.Marshal(out)
	return raw
}

// decodeData decodes e's data into v.
func decodeData(e *store.Event, v any) error {
	if err := json.Unmarshal([]byte(e.Data), v); err != nil {
		return fmt.Errorf("decode %s data: %w", e.Type, err)
	}
	return nil
}
