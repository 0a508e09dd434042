/*
 * The status file, rewritten atomically (temp file + rename) every
 * status-interval. One record per line, "KIND key=value ...", values
 * without spaces, so scripts can grep and cloudctl can parse:
 *
 *   cloud name=A id=<64 hex> uptime_s=12 links=2 routes=3
 *   link peer=B id=<16 hex> addr=10.1.0.2:5000 dir=out state=up
 *        transport=tcp|udp mtu=1472|- rtt_us=412 bytes_in=1234
 *        bytes_out=5678 pkts_in=10 pkts_out=12 drops=0 retransmits=0
 *   route addr=<inst>/<hex>/<plen> via=local|<peer name> metric=123
 *        hops=2 seqno=7 origin=<16 hex>
 *   gate id=3 name=cloudcat addrs=2 pkts_in=0 pkts_out=0 drops=0 subs=0
 *   node name=B id=<16 hex> reach=self|direct|relayed|none
 *        via=<peer name>|- hops=2|- metric=229|- why="<text>"|-
 *        version=0.1.0|- links=2|- age_s=3|- [note="<text>"]
 *   edge from=A from_id=<16 hex> to=B to_id=<16 hex> transport=tcp|udp|other
 *        rtt_us=412|- next_hop=3
 *   fwd no_route=0 ttl_expired=0 dups=4
 *   origin name=B id=<16 hex> grants=any|none|8,7:10.20.0.3/32
 *          state=self|ok|revoked refused=0
 *
 * (a link, node or edge line is one line; wrapped here only for reading.)
 * dir is in, out, or handed (a socket a gate handed over, SOCKET).
 * subs counts the instances a gate subscribed to (gate protocol SUBSCRIBE).
 * A node line is a node of the mesh (mesh.h, meshview.c): how the best
 * route it originates goes (direct when its next hop is that node,
 * relayed through another, else none), why not directly, what its record
 * says, and a gate's note on it (gate protocol NOTE). An edge line is a
 * link of the mesh, ours or from the records. Note and why are the values
 * with spaces: in double quotes, with " and \ inside escaped by a
 * backslash.
 * An origin line is a node whose certificate we hold (ours: state=self):
 * what its certificate grants (any: it has no grants; none: it has none
 * and require_grants is set), and how many of its routes we refused.
 * state is one of: handshake, hello, up. Links that are not
 * yet up show peer=- and rtt_us=-. mtu is a UDP link's path MTU (UDP
 * payload bytes); retransmits counts control segments sent again.
 */
#ifndef CV_STATUS_H
#define CV_STATUS_H

struct cloud;

int status_init(struct cloud *c);
void status_shutdown(struct cloud *c);
/* Can the status file be written (after chroot and the privilege
 * drop)? 0, or -1 after logging. */
int status_check(struct cloud *c);
/* Write the file now (also done on the timer). */
void status_write(struct cloud *c);

#endif
