package protocol

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// maxKeptBuffer is the largest encode buffer an Encoder keeps between messages.
const maxKeptBuffer = 1 << 20

// Encoder writes messages as frames to one writer. It is not safe for concurrent use.
type Encoder struct {
	w   io.Writer
	buf bytes.Buffer // reused frame buffer: header, then JSON
}

// NewEncoder returns an Encoder that writes to w.
func NewEncoder(w io.Writer) *Encoder {
	return &Encoder{w: w}
}

// Encode writes m as one frame in a single Write call, except that a message carrying a
// large binary payload goes out in two, its head and then the payload, so that the
// payload is not copied. It fails without writing when m is nil, of an unknown type, or
// encodes to more than MaxFrameSize bytes.
func (e *Encoder) Encode(m Message) error {
	if m == nil {
		return errors.New("encode message: nil message")
	}
	t := m.Type()
	if sm, ok := m.(splitMessage); ok && len(sm.bulk()) >= splitThreshold {
		return e.encodeSplit(sm)
	}
	frame, err := e.marshal(m)
	if err != nil {
		return fmt.Errorf("encode %s: %w", t, err)
	}
	defer e.release()
	if _, err := e.w.Write(frame); err != nil {
		return fmt.Errorf("write %s: %w", t, err)
	}
	return nil
}

// marshal builds the frame for m in e.buf and returns its bytes.
func (e *Encoder) marshal(m Message) ([]byte, error) {
	var hdr [HeaderSize]byte // a placeholder, filled in below
	e.buf.Reset()
	e.buf.Write(hdr[:])
	if bm, ok := m.(encoding.BinaryAppender); ok {
		return e.marshalBinary(m.Type(), bm)
	}
	if ja, ok := m.(jsonAppender); ok {
		return e.finish(m.Type(), ja.appendJSON(e.buf.Bytes()))
	}
	enc := json.NewEncoder(&e.buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		e.release()
		return nil, err
	}
	e.buf.Truncate(e.buf.Len() - 1) // json.Encoder ends each value with a newline
	n := e.buf.Len() - HeaderSize
	if err := checkOutgoing(m.Type(), n); err != nil {
		e.release()
		return nil, err
	}
	frame := e.buf.Bytes()
	putHeader(frame, m.Type(), n)
	return frame, nil
}

// marshalBinary builds the frame of a message with a binary payload.
func (e *Encoder) marshalBinary(t MsgType, m encoding.BinaryAppender) ([]byte, error) {
	frame, err := m.AppendBinary(e.buf.Bytes())
	if err != nil {
		e.release()
		return nil, err
	}
	return e.finish(t, frame)
}

// finish checks the size of a frame appended to the header placeholder and fills in the
// header.
func (e *Encoder) finish(t MsgType, frame []byte) ([]byte, error) {
	if cap(frame) > e.buf.Cap() && cap(frame) <= maxKeptBuffer {
		e.buf = *bytes.NewBuffer(frame[:0]) // keep what the message grew
	}
	n := len(frame) - HeaderSize
	if err := checkOutgoing(t, n); err != nil {
		e.release()
		return nil, err
	}
	putHeader(frame, t, n)
	return frame, nil
}

// splitThreshold is the payload size from which a splitMessage is written in two parts.
const splitThreshold = 64 << 10

// splitMessage is a binary message whose bulk the Encoder writes after the rest of the
// frame rather than copying it into its buffer.
type splitMessage interface {
	Message
	// appendHead appends every field but the bulk, which follows them on the wire.
	appendHead(b []byte) []byte
	// bulk is the payload that ends the frame.
	bulk() []byte
}

// encodeSplit writes the frame of m as its head and then its bulk.
func (e *Encoder) encodeSplit(m splitMessage) error {
	t := m.Type()
	var hdr [HeaderSize]byte
	head := m.appendHead(append(e.buf.AvailableBuffer(), hdr[:]...))
	bulk := m.bulk()
	n := len(head) - HeaderSize + len(bulk)
	if err := checkOutgoing(t, n); err != nil {
		return fmt.Errorf("encode %s: %w", t, err)
	}
	putHeader(head, t, n)
	if _, err := e.w.Write(head); err != nil {
		return fmt.Errorf("write %s: %w", t, err)
	}
	if _, err := e.w.Write(bulk); err != nil {
		return fmt.Errorf("write %s payload: %w", t, err)
	}
	return nil
}

// release drops a buffer that grew large for one big message.
func (e *Encoder) release() {
	if e.buf.Cap() > maxKeptBuffer {
		e.buf = bytes.Buffer{}
	}
}

// Decoder reads messages from frames. It never reads past the frame it decodes, so the
// reader may carry other data after a message. It is not safe for concurrent use.
type Decoder struct {
	r   io.Reader
	max int
	// buf, once ReuseBuffer was called, receives every payload; nil allocates one per
	// frame.
	buf   []byte
	reuse bool
}

// maxKeptPayload is the largest payload buffer a reusing Decoder keeps between frames:
// room for nineteen chunks in twenty at the default chunk sizes (512 KiB to 8 MiB, 1 MiB
// on average), sealed. A larger one is dropped after its frame, so that a restore's eight
// streams do not each hold on to a buffer as big as the biggest chunk they met.
const maxKeptPayload = 2<<20 + 64<<10

// NewDecoder returns a Decoder that reads from r and accepts payloads up to MaxFrameSize.
func NewDecoder(r io.Reader) *Decoder {
	return &Decoder{r: r, max: MaxFrameSize}
}

// ReuseBuffer makes the Decoder read every later payload into one buffer it keeps, for a
// reader of many binary messages that is done with each before it decodes the next: the
// byte slices of a BlobPut or BlobData (which alias the payload) are then valid only
// until the next Decode. Messages decoded from JSON never alias it.
func (d *Decoder) ReuseBuffer() { d.reuse = true }

// SetMaxFrameSize lowers the largest payload the Decoder accepts. Zero or less, or more
// than MaxFrameSize, means MaxFrameSize.
func (d *Decoder) SetMaxFrameSize(n int) {
	d.max = limit(n)
}

// Decode reads one frame and returns its message as a pointer to the concrete struct,
// such as *Hello. It returns io.EOF, unwrapped, when the reader ends cleanly between
// frames; the frame errors of ReadFrame, wrapped; or a *DecodeError when the payload is
// not valid JSON for the message's type.
func (d *Decoder) Decode() (Message, error) {
	f, err := d.readFrame()
	if errors.Is(err, io.EOF) {
		return nil, io.EOF
	}
	if err != nil {
		return nil, fmt.Errorf("read frame: %w", err)
	}
	m := newMessage(f.Type)
	if bm, ok := m.(encoding.BinaryUnmarshaler); ok {
		if err := bm.UnmarshalBinary(f.Payload); err != nil {
			return nil, &DecodeError{Type: f.Type, Err: err}
		}
		return m, nil
	}
	if jp, ok := m.(jsonParser); ok && jp.parseJSON(f.Payload) {
		return m, nil
	}
	if err := json.Unmarshal(f.Payload, m); err != nil {
		return nil, &DecodeError{Type: f.Type, Err: err}
	}
	return m, nil
}

// readFrame is ReadFrame, into the kept buffer when the Decoder reuses one.
func (d *Decoder) readFrame() (Frame, error) {
	if !d.reuse {
		return ReadFrame(d.r, d.max)
	}
	f, err := readFrame(d.r, d.max, d.buf)
	d.buf = nil
	if err == nil && cap(f.Payload) <= maxKeptPayload {
		d.buf = f.Payload[:0]
	}
	return f, err
}

// Expect decodes one message and returns it if it is a T. A received *Error comes back as
// a *RemoteError, any other message as an *UnexpectedMessageError; decoding errors are
// those of Decode.
func Expect[T Message](d *Decoder) (T, error) {
	var want T
	m, err := d.Decode()
	if err != nil {
		return want, err
	}
	if got, ok := m.(T); ok {
		return got, nil
	}
	if e, ok := m.(*Error); ok {
		return want, &RemoteError{Code: e.Code, Message: e.Message}
	}
	return want, &UnexpectedMessageError{Got: m.Type(), Want: want.Type()}
}

// DecodeError reports a payload that is not valid JSON for its message type.
type DecodeError struct {
	Type MsgType
	Err  error
}

// Error implements error.
func (e *DecodeError) Error() string {
	return fmt.Sprintf("decode %s: %v", e.Type, e.Err)
}

// Unwrap returns the JSON error.
func (e *DecodeError) Unwrap() error { return e.Err }

// UnexpectedMessageError reports a valid message of a type the receiver did not expect.
type UnexpectedMessageError struct {
	Got, Want MsgType
}

// Error implements error.
func (e *UnexpectedMessageError) Error() string {
	return fmt.Sprintf("unexpected message %s, want %s", e.Got, e.Want)
}

// RemoteError is an Error message received from the peer.
type RemoteError struct {
	Code    string
	Message string
}

// Error implements error.
func (e *RemoteError) Error() string {
	return fmt.Sprintf("remote error %s: %s", e.Code, e.Message)
}
