package restore

import (
	"context"
	"fmt"
	"io"

	"github.com/grim-reaper/grim/protocol/blob"
	"github.com/grim-reaper/grim/protocol/tree"
)

// partNodeName is the file node of every part of a stream snapshot; the backup package
// writes it under the same name.
const partNodeName = "data"

// Stream writes the byte stream stored at root (a snapshot made by backup.Stream) to w,
// in order. Every blob is verified against its id before a byte of it reaches w; a
// corrupt or missing blob fails with an error naming it. It returns the bytes written.
func Stream(ctx context.Context, root blob.ID, codec *blob.Codec, src Source,
	w io.Writer) (int64, error) {
	rt, err := fetchTree(ctx, codec, src, root)
	if err != nil {
		return 0, fmt.Errorf("stream snapshot %s: %w", root, err)
	}
	var written int64
	for _, part := range rt.Nodes {
		if part.Type != tree.TypeDir || part.Subtree == nil {
			return written, fmt.Errorf("stream snapshot %s: part %q is not a directory",
				root, part.Name)
		}
		pt, err := fetchTree(ctx, codec, src, *part.Subtree)
		if err != nil {
			return written, fmt.Errorf("stream part %s: %w", part.Name, err)
		}
		if len(pt.Nodes) != 1 || pt.Nodes[0].Name != partNodeName {
			return written, fmt.Errorf("stream part %s: unexpected layout", part.Name)
		}
		n, err := writeChunks(ctx, codec, src, pt.Nodes[0].Content, w)
		written += n
		if err != nil {
			return written, fmt.Errorf("stream part %s: %w", part.Name, err)
		}
	}
	return written, nil
}

// fetchTree gets, verifies and decodes one tree blob.
func fetchTree(ctx context.Context, codec *blob.Codec, src Source, id blob.ID) (*tree.Tree,
	error) {
	var t *tree.Tree
	err := src.Get(ctx, []blob.ID{id}, func(id blob.ID, sealed []byte) error {
		plain, kind, err := codec.Open(id, sealed)
		if err != nil {
			return fmt.Errorf("tree %s: %w", id, err)
		}
		if kind != blob.KindTree {
			return fmt.Errorf("blob %s is %s, not a tree", id, kind)
		}
		t, err = tree.Unmarshal(plain, false)
		return err
	})
	if err != nil {
		return nil, err
	}
	if t == nil {
		return nil, fmt.Errorf("tree %s not sent", id)
	}
	return t, nil
}

// writeChunks writes the verified plaintext of ids to w, in order.
func writeChunks(ctx context.Context, codec *blob.Codec, src Source, ids []blob.ID,
	w io.Writer) (int64, error) {
	var n int64
	err := src.Get(ctx, ids, func(id blob.ID, sealed []byte) error {
		plain, kind, err := codec.Open(id, sealed)
		if err != nil {
			return fmt.Errorf("chunk %s: %w", id, err)
		}
		if kind != blob.KindData {
			return fmt.Errorf("blob %s is %s, not data", id, kind)
		}
		m, err := w.Write(plain)
		n += int64(m)
		if err != nil {
			return fmt.Errorf("write: %w", err)
		}
		return nil
	})
	return n, err
}
