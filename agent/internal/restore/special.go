package restore

import (
	"strings"

	"golang.org/x/sys/unix"

	"github.com/grim-reaper/grim/protocol/tree"
)

// specialType maps a special node type to its st_mode file type.
func specialType(typ string) (uint32, bool) {
	switch typ {
	case tree.TypeFIFO:
		return unix.S_IFIFO, true
	case tree.TypeCharDev:
		return unix.S_IFCHR, true
	case tree.TypeDevice:
		return unix.S_IFBLK, true
	case tree.TypeSocket:
		return unix.S_IFSOCK, true
	}
	return 0, false
}

// restoreSymlink recreates a symbolic link with its stored target text. The link is
// never followed: it is made under a temporary name, its owner and times are set on the
// link itself, and a rename puts it in place.
func (r *run) restoreSymlink(d *dirHandle, e *entry) error {
	ok, err := r.claim(d.root, e.name, e.rel, 0)
	if !ok {
		return err
	}
	target := e.node.LinkTarget
	if target == "" || strings.ContainsRune(target, 0) {
		r.stats.warnf("%s: bad symbolic link target %q, not restored", e.rel, target)
		r.stats.done(false, 0)
		return nil
	}
	tmp, err := makeTemp(e.name, func(name string) error { return d.root.Symlink(target, name) })
	if err != nil {
		return &FileError{Path: e.rel, Err: err}
	}
	r.setOwnerNoFollow(d, tmp, e.rel, e.node)
	r.setTimesNoFollow(d, tmp, e.rel, e.node)
	return r.place(d, tmp, e)
}

// restoreSpecial recreates a FIFO, device or socket node. Where the system does not
// permit it (devices need CAP_MKNOD) the node is a warning, not a failure.
func (r *run) restoreSpecial(d *dirHandle, e *entry) error {
	n := e.node
	typ, known := specialType(n.Type)
	if !known {
		r.stats.warnf("%s: unknown type %q, not restored", e.rel, n.Type)
		r.stats.done(false, 0)
		return nil
	}
	ok, err := r.claim(d.root, e.name, e.rel, 0)
	if !ok {
		return err
	}
	tmp, err := makeTemp(e.name, func(name string) error {
		return d.at(func(fd int) error { return unix.Mknodat(fd, name, typ|0o600, int(n.RDev)) })
	})
	if err != nil {
		r.stats.warnf("%s: cannot create %s: %v", e.rel, n.Type, err)
		r.stats.done(false, 0)
		return nil
	}
	owned := r.setOwnerNoFollow(d, tmp, e.rel, n)
	// The node was made under a fresh name that cannot be a symbolic link.
	if err := d.root.Chmod(tmp, r.ownedMode(e.rel, r.mode(n), owned)); err != nil {
		r.stats.warnf("%s: chmod: %v", e.rel, err)
	}
	r.setTimesNoFollow(d, tmp, e.rel, n)
	return r.place(d, tmp, e)
}
