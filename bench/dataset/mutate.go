package dataset

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
)

// Shares of the text files touched by the second version, in percent, and how much of
// a large file an edit overwrites.
const (
	editTextShare   = 3
	deleteTextShare = 2
	addTextShare    = 2
	maxPatchSize    = 1 * MiB
	patchFraction   = 8 // a patch is at most 1/8 of the file
)

// Changes counts what Mutate did.
type Changes struct {
	TextEdited   int   `json:"text_edited"`
	LargePatched int   `json:"large_patched"`
	PatchedBytes int64 `json:"patched_bytes"`
	Added        int   `json:"added"`
	AddedBytes   int64 `json:"added_bytes"`
	Deleted      int   `json:"deleted"`
}

// Mutate turns the first version of s below root, as Generate wrote it, into the second:
// it rewrites lines in the middle of a few percent of the text files, overwrites a range
// in the middle of every other large file (their sizes stay the same), adds text files
// and one random file, and deletes a few percent of the text files.
func Mutate(ctx context.Context, root string, s Spec) (Changes, error) {
	p := newPlan(s)
	vocab := newVocabulary(s.Seed)
	rng := rand.New(rand.NewPCG(s.Seed, streamEdit))
	var ch Changes

	order := rng.Perm(len(p.text))
	nEdit := max(1, len(p.text)*editTextShare/100)
	nDelete := max(1, len(p.text)*deleteTextShare/100)
	for _, i := range order[:nEdit] {
		key := contentKey(s.Seed, streamEditText, uint64(i))
		if err := editText(root, p.text[i], vocab, key); err != nil {
			return ch, err
		}
		ch.TextEdited++
	}
	if err := ctx.Err(); err != nil {
		return ch, err
	}
	if err := patchLarge(root, p, s.Seed, &ch); err != nil {
		return ch, err
	}
	if err := addFiles(ctx, root, p, rng, s.Seed, vocab, &ch); err != nil {
		return ch, err
	}
	for _, i := range order[nEdit : nEdit+nDelete] {
		if err := os.Remove(filepath.Join(root, filepath.FromSlash(p.text[i].rel))); err != nil {
			return ch, fmt.Errorf("delete: %w", err)
		}
		ch.Deleted++
	}
	return ch, nil
}

// editText replaces the middle third of a text file with new words of the same length.
func editText(root string, f file, vocab vocabulary, key [32]byte) error {
	path := filepath.Join(root, filepath.FromSlash(f.rel))
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("edit: %w", err)
	}
	third := len(raw) / 3
	vocab.source(key).fill(raw[third : 2*third])
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		return fmt.Errorf("edit: %w", err)
	}
	return nil
}

// patchLarge overwrites a range in the middle of every other large file in place.
func patchLarge(root string, p *plan, seed uint64, ch *Changes) error {
	for i := 0; i < len(p.large); i += 2 {
		f := p.large[i]
		size := min(maxPatchSize, f.size/patchFraction)
		buf := make([]byte, size)
		_, _ = rand.NewChaCha8(contentKey(seed, streamPatch, uint64(i))).Read(buf)
		path := filepath.Join(root, filepath.FromSlash(f.rel))
		if err := writeAt(path, buf, f.size/2); err != nil {
			return fmt.Errorf("patch %s: %w", f.rel, err)
		}
		ch.LargePatched++
		ch.PatchedBytes += size
	}
	return nil
}

func writeAt(path string, buf []byte, off int64) error {
	out, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := out.WriteAt(buf, off); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// addFiles writes new text files in a new directory and one new random file half the
// size of the smallest large file.
func addFiles(ctx context.Context, root string, p *plan, rng *rand.Rand, seed uint64,
	vocab vocabulary, ch *Changes) error {
	var added []file
	for i := range max(1, len(p.text)*addTextShare/100) {
		added = append(added, file{
			rel:  fmt.Sprintf("text/new/note-%05d.txt", i),
			kind: kindText,
			size: minTextSize + rng.Int64N(maxTextSize-minTextSize+1),
			key:  contentKey(seed, streamAddText, uint64(i)),
		})
	}
	added = append(added, file{rel: "blobs/new-00.bin", kind: kindRandom, size: p.largeLow / 2,
		key: contentKey(seed, streamAddRandom, 0)})
	if err := writeAll(ctx, root, added, vocab); err != nil {
		return err
	}
	for _, f := range added {
		ch.Added++
		ch.AddedBytes += f.size
	}
	return nil
}
