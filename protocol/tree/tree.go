// Package tree is the format of directory listings in a snapshot. A tree is one directory's
// entries with their metadata; it is stored as a blob of kind tree, so unchanged
// directories deduplicate like data. A snapshot is the id of one root tree.
//
// The root tree of a snapshot holds one node per backed-up path, named by that path
// cleaned and absolute ("/var/www"); every deeper tree holds plain names, which Unmarshal
// checks: no empty name, ".", "..", slash or NUL byte.
package tree

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/grim-reaper/grim/protocol/blob"
)

// The types of node.
const (
	TypeFile    = "file"
	TypeDir     = "dir"
	TypeSymlink = "symlink"
	TypeDevice  = "dev"     // block device
	TypeCharDev = "chardev" // character device
	TypeFIFO    = "fifo"
	TypeSocket  = "socket"
)

// Xattr is one extended attribute.
type Xattr struct {
	Name  string `json:"name"`
	Value []byte `json:"value"`
}

// Node is one directory entry.
type Node struct {
	Name    string    `json:"name"`
	Type    string    `json:"type"`
	Mode    uint32    `json:"mode"` // permission bits plus setuid, setgid and sticky
	UID     uint32    `json:"uid"`
	GID     uint32    `json:"gid"`
	User    string    `json:"user,omitempty"`
	Group   string    `json:"group,omitempty"`
	ModTime time.Time `json:"mtime"`
	// AccessTime is left zero by backups: reading a file for the backup changes it, which
	// would make every tree new on every run. Restores then set it to ModTime.
	AccessTime time.Time `json:"atime,omitzero"`
	ChangeTime time.Time `json:"ctime"`
	Size       uint64    `json:"size,omitempty"`
	// Inode, Device and Links identify hard links: nodes of one snapshot with the same
	// device and inode and Links > 1 are one file.
	Inode      uint64    `json:"inode,omitempty"`
	Device     uint64    `json:"device,omitempty"`
	Links      uint64    `json:"links,omitempty"`
	RDev       uint64    `json:"rdev,omitempty"` // device number of device nodes
	LinkTarget string    `json:"link_target,omitempty"`
	Content    []blob.ID `json:"content,omitempty"` // data chunks of a file, in order
	Subtree    *blob.ID  `json:"subtree,omitempty"` // the tree of a directory
	Xattrs     []Xattr   `json:"xattrs,omitempty"`
}

// Tree is one directory's entries, sorted by name.
type Tree struct {
	Nodes []Node `json:"nodes"`
}

// ErrInvalid reports a tree that breaks the format's rules.
var ErrInvalid = errors.New("invalid tree")

// Marshal sorts the nodes by name and encodes the tree. The encoding is deterministic, so
// an unchanged directory gives the same bytes and therefore the same blob id.
func (t *Tree) Marshal() ([]byte, error) {
	slices.SortFunc(t.Nodes, func(a, b Node) int { return strings.Compare(a.Name, b.Name) })
	for i := range t.Nodes {
		t.Nodes[i].ModTime = t.Nodes[i].ModTime.UTC()
		t.Nodes[i].AccessTime = t.Nodes[i].AccessTime.UTC()
		t.Nodes[i].ChangeTime = t.Nodes[i].ChangeTime.UTC()
	}
	if b, ok := appendTree(make([]byte, 0, 16+384*len(t.Nodes)), t); ok {
		return b, nil
	}
	return json.Marshal(t)
}

// Unmarshal decodes a tree and checks it. With root set, names are absolute paths (the
// snapshot's root tree); otherwise they are single path elements.
func Unmarshal(b []byte, root bool) (*Tree, error) {
	var t Tree
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	seen := make(map[string]bool, len(t.Nodes))
	for i := range t.Nodes {
		n := &t.Nodes[i]
		if err := n.check(root); err != nil {
			return nil, err
		}
		if seen[n.Name] {
			return nil, fmt.Errorf("%w: duplicate name %q", ErrInvalid, n.Name)
		}
		seen[n.Name] = true
	}
	return &t, nil
}

func (n *Node) check(root bool) error {
	if root && !ValidRootName(n.Name) || !root && !ValidName(n.Name) {
		return fmt.Errorf("%w: bad name %q", ErrInvalid, n.Name)
	}
	switch n.Type {
	case TypeDir:
		if n.Subtree == nil {
			return fmt.Errorf("%w: directory %q without subtree", ErrInvalid, n.Name)
		}
	case TypeFile, TypeSymlink, TypeDevice, TypeCharDev, TypeFIFO, TypeSocket:
	default:
		return fmt.Errorf("%w: %q has unknown type %q", ErrInvalid, n.Name, n.Type)
	}
	return nil
}

// ValidName reports whether s can name an entry inside a directory.
func ValidName(s string) bool {
	return s != "" && s != "." && s != ".." && !strings.ContainsAny(s, "/\x00")
}

// ValidRootName reports whether s can name a backed-up path in a root tree: absolute,
// clean, and made of valid names.
func ValidRootName(s string) bool {
	if s == "/" {
		return true
	}
	if !strings.HasPrefix(s, "/") || strings.HasSuffix(s, "/") {
		return false
	}
	for _, part := range strings.Split(s[1:], "/") {
		if !ValidName(part) {
			return false
		}
	}
	return true
}
