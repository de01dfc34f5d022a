package restore

import (
	"io/fs"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/grim-reaper/grim/protocol/tree"
)

// Metadata is best effort: what cannot be set becomes a warning, never a failure.

// setMeta sets owner, mode and extended attributes through an open file, in that order
// because changing the owner clears setuid and setgid bits and file capabilities.
func (r *run) setMeta(f *os.File, rel string, n *tree.Node) {
	owned := r.setOwner(rel, n, f.Chown)
	if err := f.Chmod(r.ownedMode(rel, r.mode(n), owned)); err != nil {
		r.stats.warnf("%s: chmod: %v", rel, err)
	}
	r.setXattrs(f, rel, n.Xattrs)
}

func (r *run) setXattrs(f *os.File, rel string, xattrs []tree.Xattr) {
	if len(xattrs) == 0 {
		return
	}
	rc, err := f.SyscallConn()
	if err != nil {
		r.stats.warnf("%s: xattrs: %v", rel, err)
		return
	}
	for _, x := range xattrs {
		if !r.wantXattr(x.Name) {
			continue
		}
		var setErr error
		err := rc.Control(func(fd uintptr) {
			setErr = unix.Fsetxattr(int(fd), x.Name, x.Value, 0)
		})
		if err == nil {
			err = setErr
		}
		if err != nil {
			r.stats.warnf("%s: xattr %q: %v", rel, x.Name, err)
		}
	}
}

// wantXattr reports whether an extended attribute is restored. Those in the security
// and system namespaces (file capabilities, ACLs) grant permissions, so they follow
// PreservePermissions; the others are always restored.
func (r *run) wantXattr(name string) bool {
	if r.opt.PreservePermissions {
		return true
	}
	return !strings.HasPrefix(name, "security.") && !strings.HasPrefix(name, "system.")
}

// mode maps a node's mode to the one to set. The tree stores permission bits with
// setuid, setgid and sticky either as in st_mode (04000, 02000, 01000) or as in
// io/fs.FileMode; both are understood.
func (r *run) mode(n *tree.Node) os.FileMode {
	perm := fs.FileMode(n.Mode & 0o777)
	if !r.opt.PreservePermissions {
		return perm &^ 0o022
	}
	special := []struct {
		unix uint32
		mode fs.FileMode
	}{{0o4000, fs.ModeSetuid}, {0o2000, fs.ModeSetgid}, {0o1000, fs.ModeSticky}}
	for _, s := range special {
		if n.Mode&s.unix != 0 || n.Mode&uint32(s.mode) != 0 {
			perm |= s.mode
		}
	}
	return perm
}

// nodeTimes returns the access and modification times to set, if any.
func (r *run) nodeTimes(n *tree.Node) (atime, mtime time.Time, ok bool) {
	if !r.opt.PreserveTimestamps || n.ModTime.IsZero() {
		return time.Time{}, time.Time{}, false
	}
	atime = n.AccessTime
	if atime.IsZero() {
		atime = n.ModTime
	}
	return atime, n.ModTime, true
}

// setTimes sets times by name below dir; the name must not be a symbolic link (os.Root
// refuses to follow one out of dir, and callers pass names they made or checked).
func (r *run) setTimes(dir *os.Root, name, rel string, n *tree.Node) {
	atime, mtime, ok := r.nodeTimes(n)
	if !ok {
		return
	}
	if err := dir.Chtimes(name, atime, mtime); err != nil {
		r.stats.warnf("%s: set times: %v", rel, err)
	}
}

// setTimesNoFollow sets times of name itself, a symbolic link included, relative to
// the directory's descriptor.
func (r *run) setTimesNoFollow(d *dirHandle, name, rel string, n *tree.Node) {
	atime, mtime, ok := r.nodeTimes(n)
	if !ok {
		return
	}
	ts := []unix.Timespec{timespec(atime), timespec(mtime)}
	err := d.at(func(fd int) error {
		return unix.UtimesNanoAt(fd, name, ts, unix.AT_SYMLINK_NOFOLLOW)
	})
	if err != nil {
		r.stats.warnf("%s: set times: %v", rel, err)
	}
}

func timespec(t time.Time) unix.Timespec {
	return unix.Timespec{Sec: t.Unix(), Nsec: int64(t.Nanosecond())}
}

// setOwnerNoFollow sets the owner of name itself, a symbolic link included, and reports
// whether it has the node's owner now.
func (r *run) setOwnerNoFollow(d *dirHandle, name, rel string, n *tree.Node) bool {
	return r.setOwner(rel, n, func(uid, gid int) error { return d.root.Lchown(name, uid, gid) })
}
