package repo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/grim-reaper/grim/controller/internal/storage"
	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/protocol/blob"
)

// What VerifyPack finds wrong with a pack.
const (
	ProblemMissing  = "missing"        // no file in storage
	ProblemSize     = "size_mismatch"  // the file is shorter or longer than indexed
	ProblemHash     = "hash_mismatch"  // its bytes do not hash to its name
	ProblemTrailer  = "bad_trailer"    // its trailer cannot be read
	ProblemIndex    = "index_mismatch" // the index places a blob where the trailer has none
	ProblemEnvelope = "bad_blob"       // a blob is not even shaped like a sealed blob
)

// VerifyPack reads the stored pack packID whole and checks, without any key, that it is
// size bytes long, that its SHA-256 is its name, that its trailer is well formed and
// places every blob of index where the index does, and that each of its blobs is shaped
// like a sealed blob (blob.CheckSealed). It returns the first problem found, one of the
// Problem constants, or "" for a sound pack; err is for failures to read that say nothing
// about the pack, such as a canceled ctx.
func (r *Repo) VerifyPack(ctx context.Context, packID string, size int64,
	index []store.BlobEntry) (problem string, err error) {
	if err := validPackID(packID); err != nil {
		return "", fmt.Errorf("verify pack: %w", err)
	}
	rc, err := r.sto.Open(ctx, PackName(packID))
	if errors.Is(err, storage.ErrNotExist) {
		return ProblemMissing, nil
	}
	if err != nil {
		return "", fmt.Errorf("verify pack %s: %w", packID, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, size+1))
	if err != nil {
		return "", fmt.Errorf("verify pack %s: %w", packID, err)
	}
	if int64(len(data)) != size {
		return ProblemSize, nil
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != packID {
		return ProblemHash, nil
	}
	return verifyContent(data, index), nil
}

// verifyContent checks the trailer of a pack whose bytes hash to its name, the index's
// entries against it and the shape of each blob.
func verifyContent(data []byte, index []store.BlobEntry) string {
	size := int64(len(data))
	if size < footerSize {
		return ProblemTrailer
	}
	n, err := trailerSize(data[size-footerSize:], size)
	if err != nil {
		return ProblemTrailer
	}
	_, entries, err := decodeTrailer(data[size-n:], size)
	if err != nil {
		return ProblemTrailer
	}
	byID := make(map[blob.ID]store.BlobEntry, len(entries))
	for _, e := range entries {
		byID[e.ID] = e
	}
	for _, want := range index {
		got, ok := byID[want.ID]
		if !ok || got.Offset != want.Offset || got.Length != want.Length || got.Kind != want.Kind {
			return ProblemIndex
		}
	}
	for _, e := range entries {
		if blob.CheckSealed(data[e.Offset:e.Offset+int64(e.Length)]) != nil {
			return ProblemEnvelope
		}
	}
	return ""
}
