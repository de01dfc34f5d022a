// Package transport carries agent connections over QUIC, or over TLS on TCP where UDP
// does not get through, behind one pair of interfaces, Conn and Stream. Nothing outside
// this package sees a quic-go or yamux type.
//
// # Design
//
// Both transports give the same thing: one mutually authenticated TLS 1.3 connection,
// with ALPN "grim/1", that carries many independent bidirectional streams, each with
// half-close. QUIC has all of it built in. On TCP, yamux multiplexes streams over the TLS
// connection once its handshake has completed; the dialer is the yamux client.
//
// A Listener serves both on one port number, UDP for QUIC and TCP for TLS, so agents
// need one address whatever gets through. Every handshake runs on its own goroutine with
// a time limit, so a slow or hostile client cannot hold up the others.
//
// With TLS 1.3 a client completes its handshake before the server has checked the
// client's certificate, and a refused client would only learn of it at its first read.
// So once a listener has accepted a client, it sends one byte, 0x01: on TCP as the
// first byte after the handshake, before yamux starts; on QUIC on a unidirectional
// stream. Dial waits for that byte, so it returns only connections the listener took,
// and refusals surface in Dial as ErrAuth.
//
// Dial in ModeAuto tries QUIC first, for a few seconds, then TCP. It does not fall back
// after a TLS failure, as TCP would meet the same certificates.
//
// # Differences that remain
//
//   - A stream opened over QUIC reaches the peer's AcceptStream only once data is sent
//     on it, so the side that opens a stream writes first. Our protocol always does.
//   - yamux cannot abort a stream. Reset over TCP fails the local side at once and
//     half-closes it, so the peer reads io.EOF rather than ErrStreamReset. A protocol on
//     top must not take io.EOF for success without its final message; ours ends every
//     exchange with one.
//   - When a TCP connection breaks, yamux ends its streams' reads with io.EOF too.
//   - Conn.Close is abrupt on QUIC: data the peer has not acknowledged is dropped. Finish
//     exchanges before closing.
//
// # Tuning
//
// Each stream may buffer up to 16 MiB of unread data on either transport, which is two
// chunks in flight. Keepalives run every 15 s; an idle QUIC connection dies after 60 s
// without a reply, a yamux session when a keepalive goes unanswered for 30 s.
//
// quic-go asks the kernel for larger UDP socket buffers and logs a warning through the
// standard logger once per process when it may not have them. Silencing it takes a
// process-wide environment variable, so this package leaves it alone; raise
// net.core.rmem_max and net.core.wmem_max on busy controllers instead.
package transport
