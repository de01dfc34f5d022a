package restore

import (
	"errors"
	"io/fs"
	"os"
	"sync/atomic"

	"github.com/grim-reaper/grim/protocol/tree"
)

// Owners. With PreservePermissions a restore gives every path the numeric owner the
// snapshot recorded. Root may, and so may any process holding CAP_CHOWN, such as the
// agent under its unit, which runs as the user grim-agent; a plain user may not. The
// restore always tries rather than guessing from its user id: only the kernel knows
// (capabilities, user namespaces, file systems without owners). The paths it refuses
// for lack of privilege are counted into one warning instead of one per path.
//
// Set-user-ID and set-group-ID bits are restored only on a path that got its recorded
// owner: they lend the owner's rights to whoever runs the file, and a setuid file left
// to the agent's own user would lend that user's.

// owners counts what the owner setting of one restore could not do; workers update it
// concurrently.
type owners struct {
	denied atomic.Int64 // paths whose owner the kernel refused to set for lack of privilege
}

// setOwner gives a path the node's owner through set, if the restore preserves
// permissions, and reports whether the path has that owner now.
func (r *run) setOwner(rel string, n *tree.Node, set func(uid, gid int) error) bool {
	if !r.opt.PreservePermissions {
		return false
	}
	err := set(int(n.UID), int(n.GID))
	switch {
	case err == nil:
		return true
	case errors.Is(err, fs.ErrPermission):
		r.owners.denied.Add(1)
	default:
		r.stats.warnf("%s: chown: %v", rel, err)
	}
	return false
}

// ownedMode returns mode without its set-user-ID and set-group-ID bits, with a warning,
// when the path did not get its recorded owner.
func (r *run) ownedMode(rel string, mode os.FileMode, owned bool) os.FileMode {
	const setID = fs.ModeSetuid | fs.ModeSetgid
	if owned || mode&setID == 0 {
		return mode
	}
	r.stats.warnf("%s: set-user-ID and set-group-ID bits not restored: its owner was not",
		rel)
	r.log.Warn("set-user-ID bits not restored without the owner", "path", rel)
	return mode &^ setID
}

// reportOwners turns the paths refused an owner into one warning.
func (r *run) reportOwners() {
	n := r.owners.denied.Load()
	if n == 0 {
		return
	}
	r.stats.warnf("owners of %d paths not restored: not permitted (restores need root or "+
		"CAP_CHOWN for that); they belong to user %d", n, os.Geteuid())
	r.log.Warn("owners not restored: not permitted", "paths", n, "uid", os.Geteuid())
}
