package protocol

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"time"
)

// MsgType identifies the message in a frame. Numbers are grouped by purpose with room
// to grow in each group; a number, once used, never changes meaning.
type MsgType uint8

// Message types of protocol version 1. Zero is never a valid type.
const (
	// Session: 1 to 15.
	MsgHello          MsgType = 1
	MsgHelloAck       MsgType = 2
	MsgEnrollRequest  MsgType = 3
	MsgEnrollResponse MsgType = 4
	MsgHeartbeat      MsgType = 5
	MsgHeartbeatAck   MsgType = 6

	// Jobs: 16 to 31.
	MsgJob         MsgType = 16
	MsgJobProgress MsgType = 17
	MsgJobResult   MsgType = 18

	// Backup and restore data: 32 to 63 (see data.go). 64 to 126 are free.
	MsgDataOpen        MsgType = 32
	MsgDataOpenAck     MsgType = 33
	MsgMissingRequest  MsgType = 34
	MsgMissingResponse MsgType = 35
	MsgBlobPut         MsgType = 36
	MsgFlushRequest    MsgType = 37
	MsgFlushResponse   MsgType = 38
	MsgGetRequest      MsgType = 39
	MsgBlobData        MsgType = 40
	MsgGetDone         MsgType = 41

	// Errors: 127.
	MsgError MsgType = 127
)

// String returns the snake_case name of a known type, and MsgType(n) for others.
func (t MsgType) String() string {
	switch t {
	case MsgHello:
		return "hello"
	case MsgHelloAck:
		return "hello_ack"
	case MsgEnrollRequest:
		return "enroll_request"
	case MsgEnrollResponse:
		return "enroll_response"
	case MsgHeartbeat:
		return "heartbeat"
	case MsgHeartbeatAck:
		return "heartbeat_ack"
	case MsgJob:
		return "job"
	case MsgJobProgress:
		return "job_progress"
	case MsgJobResult:
		return "job_result"
	case MsgError:
		return "error"
	}
	if name, ok := dataNames[t]; ok {
		return name
	}
	return fmt.Sprintf("MsgType(%d)", uint8(t))
}

func (t MsgType) known() bool { return newMessage(t) != nil }

// newMessage returns a pointer to a zero message of type t, or nil for an unknown type.
func newMessage(t MsgType) Message {
	switch t {
	case MsgHello:
		return new(Hello)
	case MsgHelloAck:
		return new(HelloAck)
	case MsgEnrollRequest:
		return new(EnrollRequest)
	case MsgEnrollResponse:
		return new(EnrollResponse)
	case MsgHeartbeat:
		return new(Heartbeat)
	case MsgHeartbeatAck:
		return new(HeartbeatAck)
	case MsgJob:
		return new(Job)
	case MsgJobProgress:
		return new(JobProgress)
	case MsgJobResult:
		return new(JobResult)
	case MsgError:
		return new(Error)
	}
	return newDataMessage(t)
}

// Message is implemented by a pointer to each message struct of this package. Type is
// safe to call on a nil pointer.
type Message interface {
	Type() MsgType
}

// Hello is the first message an enrolled agent sends on its control stream.
type Hello struct {
	ProtocolMin  int    `json:"protocol_min"`
	ProtocolMax  int    `json:"protocol_max"`
	AgentVersion string `json:"agent_version"`
	Hostname     string `json:"hostname"`
	OS           string `json:"os"`
	Arch         string `json:"arch"`
	Name         string `json:"name"`
	// Capabilities lists the database tools the agent found when it started.
	Capabilities *Capabilities `json:"capabilities,omitempty"`
}

// HelloAck is the controller's answer to Hello, with the protocol version it chose.
type HelloAck struct {
	Protocol          int    `json:"protocol"`
	AgentID           string `json:"agent_id"`
	AgentName         string `json:"agent_name"`
	ControllerVersion string `json:"controller_version"`
	HeartbeatSeconds  int    `json:"heartbeat_seconds"`
}

// EnrollRequest asks the controller to enrol a new agent with a join token and to sign
// its certificate request.
type EnrollRequest struct {
	Token        string `json:"token"` // secret: LogValue hides it
	Name         string `json:"name"`
	Hostname     string `json:"hostname"`
	OS           string `json:"os"`
	Arch         string `json:"arch"`
	AgentVersion string `json:"agent_version"`
	CSR          []byte `json:"csr"` // DER of an x509 certificate request
}

// LogValue keeps the join token out of logs.
func (r EnrollRequest) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("name", r.Name),
		slog.String("hostname", r.Hostname),
		slog.String("os", r.OS),
		slog.String("arch", r.Arch),
		slog.String("agent_version", r.AgentVersion),
	)
}

// EnrollResponse gives an enrolled agent its identity and the certificates it needs.
type EnrollResponse struct {
	AgentID       string `json:"agent_id"`
	AgentName     string `json:"agent_name"`
	Certificate   []byte `json:"certificate"`    // DER of the agent's certificate
	CACertificate []byte `json:"ca_certificate"` // DER of the controller's CA
}

// Heartbeat tells the controller the agent is alive.
type Heartbeat struct {
	Seq    uint64    `json:"seq"`
	SentAt time.Time `json:"sent_at"`
}

// HeartbeatAck answers the Heartbeat with the same Seq.
type HeartbeatAck struct {
	Seq uint64 `json:"seq"`
}

// Job is the first message on a stream the controller opens to run a job on an agent.
// Payload is specific to Kind.
type Job struct {
	ID      string          `json:"id"`
	Kind    string          `json:"kind"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// JobProgress reports progress of the job with ID; Data is specific to the job's kind.
type JobProgress struct {
	ID      string          `json:"id"`
	Percent float64         `json:"percent"`
	Message string          `json:"message,omitempty"`
	Data    json.RawMessage `json:"data,omitempty"`
}

// JobResult is the last message about the job with ID. Error is set when OK is false.
type JobResult struct {
	ID    string          `json:"id"`
	OK    bool            `json:"ok"`
	Error string          `json:"error,omitempty"`
	Data  json.RawMessage `json:"data,omitempty"`
}

// Codes of Error messages.
const (
	ErrCodeBadMessage   = "bad_message"         // malformed or unexpected message
	ErrCodeVersion      = "unsupported_version" // no common wire or protocol version
	ErrCodeUnauthorized = "unauthorized"        // bad token, unknown or revoked agent
	ErrCodeInternal     = "internal"            // the sender failed; details stay there
)

// Error is sent before a stream is closed because of a protocol error. Expect turns a
// received Error into a *RemoteError.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Type implements Message.
func (*Hello) Type() MsgType { return MsgHello }

// Type implements Message.
func (*HelloAck) Type() MsgType { return MsgHelloAck }

// Type implements Message.
func (*EnrollRequest) Type() MsgType { return MsgEnrollRequest }

// Type implements Message.
func (*EnrollResponse) Type() MsgType { return MsgEnrollResponse }

// Type implements Message.
func (*Heartbeat) Type() MsgType { return MsgHeartbeat }

// Type implements Message.
func (*HeartbeatAck) Type() MsgType { return MsgHeartbeatAck }

// Type implements Message.
func (*Job) Type() MsgType { return MsgJob }

// Type implements Message.
func (*JobProgress) Type() MsgType { return MsgJobProgress }

// Type implements Message.
func (*JobResult) Type() MsgType { return MsgJobResult }

// Type implements Message.
func (*Error) Type() MsgType { return MsgError }
