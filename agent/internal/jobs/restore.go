package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"

	"github.com/grim-reaper/grim/agent/internal/remote"
	"github.com/grim-reaper/grim/agent/internal/restore"
	"github.com/grim-reaper/grim/protocol"
	"github.com/grim-reaper/grim/protocol/blob"
)

// restore runs a restore job: it fetches the snapshot's trees and chunks, verifies each,
// and writes the files under the target.
func (r *Registry) restore(ctx context.Context, job *protocol.Job, env Env) (json.RawMessage, error) {
	var spec protocol.RestoreSpec
	if err := json.Unmarshal(job.Payload, &spec); err != nil {
		return nil, fmt.Errorf("restore job: %w", err)
	}
	if spec.Keys == nil {
		return nil, errors.New("restore job: no account keys")
	}
	if err := r.checkRestoreTools(spec.Databases); err != nil {
		return nil, err
	}
	codec, err := blob.NewCodec(spec.Keys, "", "")
	if err != nil {
		return nil, fmt.Errorf("restore job: %w", err)
	}
	// Restores wait on the network and the disk more than on the CPU: more workers than
	// cores, each with a data stream of its own, keep both busy.
	workers := max(8, 2*runtime.NumCPU())
	client, err := remote.Open(ctx, env.OpenStream, job.ID, max(spec.Streams, workers))
	if err != nil {
		return nil, err
	}
	defer client.Close()
	var rep protocol.RestoreReport
	if !spec.Root.IsZero() {
		if rep, err = r.restoreFiles(ctx, job, env, &spec, codec, client, workers); err != nil {
			return nil, err
		}
	}
	rep.Databases, err = r.restoreDatabases(ctx, job, spec.Databases, codec, client)
	if err != nil {
		return nil, err
	}
	for _, d := range rep.Databases {
		rep.Bytes += d.Bytes
	}
	return json.Marshal(rep)
}

// restoreFiles restores the filesystem snapshot under the target.
func (r *Registry) restoreFiles(ctx context.Context, job *protocol.Job, env Env,
	spec *protocol.RestoreSpec, codec *blob.Codec, client *remote.Client, workers int) (
	protocol.RestoreReport, error) {
	res, err := restore.Run(ctx, restore.Options{
		Root: spec.Root, Target: spec.Target, Codec: codec, Source: client,
		Overwrite: spec.Overwrite, PreserveTimestamps: spec.PreserveTimestamps,
		PreservePermissions: spec.PreservePermissions, Logger: r.cfg.Logger,
		Concurrency: workers,
		Progress: func(p restore.Progress) {
			sendProgress(env, job.ID, protocol.TransferProgress{FilesDone: p.FilesDone,
				FilesTotal: p.FilesTotal, BytesDone: p.BytesDone, BytesTotal: p.BytesTotal})
		},
	})
	if err != nil {
		return protocol.RestoreReport{}, err
	}
	return protocol.RestoreReport{Files: res.Files, Dirs: res.Dirs,
		Bytes: res.Bytes, Skipped: res.Skipped, Warnings: res.Warnings}, nil
}
