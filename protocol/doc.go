// Package protocol defines the messages that agents and the controller exchange and the
// frames that carry them. It is shared by both sides and imports neither.
//
// # Frames
//
// Every message travels in one frame:
//
//	offset  size  field
//	0       1     magic, 0x47 ('G')
//	1       1     wire version, WireVersion
//	2       1     message type, a MsgType
//	3       1     flags, always 0 in wire version 1
//	4       4     payload length, big-endian, at most MaxFrameSize
//	8       n     payload: the message as a JSON object
//
// A reader checks the header before it reads or allocates the payload, so a peer cannot
// make it allocate more than the limit, and it rejects a bad magic byte, another wire
// version (as *VersionError), set flags, an unknown type and a truncated frame. Readers
// never read past the end of the frame they return, so a stream may carry other data
// after a message.
//
// Payloads are lenient about fields they do not know, so a newer peer may add fields
// without a version bump, and strict about the types of the fields they do know.
//
// # Versions
//
// The wire version in each frame changes only when the frame layout changes. The protocol
// version changes when messages change meaning; an agent announces the range it speaks in
// Hello and the controller picks one with Negotiate and answers in HelloAck.
//
// Compatibility: a fleet is upgraded a host at a time, controller first, so a controller
// and its agents are often a minor release apart. Each release therefore keeps speaking
// the protocol version of the release before it: when a release raises ProtocolMax, it
// keeps ProtocolMin at the previous ProtocolMax, and only the release after that may drop
// it. Agents send their release in Hello; the controller lists older ones as outdated.
//
// History:
//   - protocol 1, wire 1 (2026): hello, enrolment, heartbeats, jobs, errors.
//
// # Conversations
//
// An enrolling agent opens a stream, sends EnrollRequest and reads EnrollResponse. An
// enrolled agent opens its control stream with Hello and reads HelloAck, then sends
// Heartbeat messages that the controller answers with HeartbeatAck. The controller starts
// each job on a new stream with Job; the agent answers on that stream with any number of
// JobProgress messages and one JobResult. Either side may send Error before it closes a
// stream because of a protocol error.
package protocol
