package protocol

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/grim-reaper/grim/protocol/blob"
)

// The data messages carry backup and restore data on streams the agent opens. A data
// stream starts with DataOpen naming the job it serves; the controller answers DataOpenAck
// or an Error. Then, in any order and sequentially on the stream:
//
//   - MissingRequest → MissingResponse: which blobs the store lacks.
//   - BlobPut: one sealed blob, no reply. An Error reply ends the stream.
//   - FlushRequest → FlushResponse: every blob put before it on this stream is durable
//     and indexed.
//   - GetRequest → BlobData per id, in order, then GetDone.
//
// BlobPut and BlobData are binary, not JSON, because they carry up to a chunk of data.

// MaxBatch is the most ids one MissingRequest or GetRequest may name.
const MaxBatch = 4096

var dataNames = map[MsgType]string{
	MsgDataOpen: "data_open", MsgDataOpenAck: "data_open_ack",
	MsgMissingRequest: "missing_request", MsgMissingResponse: "missing_response",
	MsgBlobPut: "blob_put", MsgFlushRequest: "flush_request", MsgFlushResponse: "flush_response",
	MsgGetRequest: "get_request", MsgBlobData: "blob_data", MsgGetDone: "get_done",
}

func newDataMessage(t MsgType) Message {
	switch t {
	case MsgDataOpen:
		return new(DataOpen)
	case MsgDataOpenAck:
		return new(DataOpenAck)
	case MsgMissingRequest:
		return new(MissingRequest)
	case MsgMissingResponse:
		return new(MissingResponse)
	case MsgBlobPut:
		return new(BlobPut)
	case MsgFlushRequest:
		return new(FlushRequest)
	case MsgFlushResponse:
		return new(FlushResponse)
	case MsgGetRequest:
		return new(GetRequest)
	case MsgBlobData:
		return new(BlobData)
	case MsgGetDone:
		return new(GetDone)
	}
	return nil
}

// DataOpen starts a data stream for a job the controller sent this agent.
type DataOpen struct {
	JobID string `json:"job_id"`
}

// Type implements Message.
func (*DataOpen) Type() MsgType { return MsgDataOpen }

// DataOpenAck accepts a data stream.
type DataOpenAck struct{}

// Type implements Message.
func (*DataOpenAck) Type() MsgType { return MsgDataOpenAck }

// MissingRequest asks which of the ids the store lacks.
type MissingRequest struct {
	IDs []blob.ID `json:"ids"`
}

// Type implements Message.
func (*MissingRequest) Type() MsgType { return MsgMissingRequest }

// MissingResponse answers a MissingRequest, one flag per id in order.
type MissingResponse struct {
	Missing []bool `json:"missing"`
}

// Type implements Message.
func (*MissingResponse) Type() MsgType { return MsgMissingResponse }

// FlushRequest asks the controller to make every blob put so far durable.
type FlushRequest struct{}

// Type implements Message.
func (*FlushRequest) Type() MsgType { return MsgFlushRequest }

// FlushResponse answers a FlushRequest once the blobs are durable and indexed.
type FlushResponse struct{}

// Type implements Message.
func (*FlushResponse) Type() MsgType { return MsgFlushResponse }

// GetRequest asks for sealed blobs, answered in order by BlobData messages and a GetDone.
type GetRequest struct {
	IDs []blob.ID `json:"ids"`
}

// Type implements Message.
func (*GetRequest) Type() MsgType { return MsgGetRequest }

// GetDone ends the answer to a GetRequest.
type GetDone struct{}

// Type implements Message.
func (*GetDone) Type() MsgType { return MsgGetDone }

// BlobPut carries one sealed blob to the store. Binary layout:
// kind u8 | raw length u32 big-endian | id [32] | sealed bytes.
type BlobPut struct {
	Kind      blob.Kind
	RawLength uint32
	ID        blob.ID
	Sealed    []byte
}

const blobPutHeader = 1 + 4 + blob.IDSize

// Type implements Message.
func (*BlobPut) Type() MsgType { return MsgBlobPut }

// AppendBinary implements encoding.BinaryAppender.
func (m *BlobPut) AppendBinary(b []byte) ([]byte, error) {
	if len(m.Sealed) == 0 {
		return nil, errors.New("blob put: empty blob")
	}
	return append(m.appendHead(b), m.Sealed...), nil
}

func (m *BlobPut) appendHead(b []byte) []byte {
	b = append(b, byte(m.Kind))
	b = binary.BigEndian.AppendUint32(b, m.RawLength)
	return append(b, m.ID[:]...)
}

func (m *BlobPut) bulk() []byte { return m.Sealed }

// UnmarshalBinary implements encoding.BinaryUnmarshaler. Sealed aliases p.
func (m *BlobPut) UnmarshalBinary(p []byte) error {
	if len(p) <= blobPutHeader {
		return fmt.Errorf("blob put: %d bytes is too short", len(p))
	}
	m.Kind = blob.Kind(p[0])
	if m.Kind != blob.KindData && m.Kind != blob.KindTree {
		return fmt.Errorf("blob put: unknown kind %d", p[0])
	}
	m.RawLength = binary.BigEndian.Uint32(p[1:5])
	copy(m.ID[:], p[5:blobPutHeader])
	m.Sealed = p[blobPutHeader:]
	return nil
}

// BlobData carries one sealed blob to the agent. Binary layout: id [32] | sealed bytes.
type BlobData struct {
	ID     blob.ID
	Sealed []byte
}

// Type implements Message.
func (*BlobData) Type() MsgType { return MsgBlobData }

// AppendBinary implements encoding.BinaryAppender.
func (m *BlobData) AppendBinary(b []byte) ([]byte, error) {
	return append(m.appendHead(b), m.Sealed...), nil
}

func (m *BlobData) appendHead(b []byte) []byte { return append(b, m.ID[:]...) }

func (m *BlobData) bulk() []byte { return m.Sealed }

// UnmarshalBinary implements encoding.BinaryUnmarshaler. Sealed aliases p.
func (m *BlobData) UnmarshalBinary(p []byte) error {
	if len(p) < blob.IDSize {
		return fmt.Errorf("blob data: %d bytes is too short", len(p))
	}
	copy(m.ID[:], p[:blob.IDSize])
	m.Sealed = p[blob.IDSize:]
	return nil
}
