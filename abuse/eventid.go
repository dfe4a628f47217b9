package abuse

import (
	"crypto/sha256"
	"encoding/binary"
)

// eventIDLabel starts the hashed message of EventID: 16 bytes, so that the
// whole message (54 bytes) is one SHA-256 block.
const eventIDLabel = "verity/event/v1\x00"

// EventID is the deterministic id of a stored event row: the first 8 bytes,
// little-endian, of SHA-256 over the fixed layout
//
//	offset  len  field
//	     0   16  "verity/event/v1" 0x00
//	    16   16  site id
//	    32   16  page-load id
//	    48    4  sequence number, little-endian
//	    52    2  index, little-endian
//	    54       end
//
// seq is the sequence number the snippet gave the event in its page load;
// index tells apart several rows stored for one sequence number (0 when
// there is one).
//
// An event sent again — a retried beacon, a replay that reached another
// node, a batch re-inserted after an insert error or replayed from the
// spool — gets the same id, so the writer's dedupe and ClickHouse (the
// event table is a ReplacingMergeTree keyed by event_id) count it once.
// Changing the layout changes every id: stored and new rows would no longer
// deduplicate, so change the label with it and only with a migration.
//
// The table's sorting key is (site_id, toDate(ts), event_id), so a re-sent
// row folds into the first only on the same day (toDate(ts)): the writer
// must keep the event's original time. For the same reason two different events can only
// collide within one site and day: with n events there, the chance is about
// n²/2^65 (3·10^-6 for 10 million).
func EventID(siteID, plid [16]byte, seq uint32, index uint16) uint64 {
	var msg [len(eventIDLabel) + 16 + 16 + 4 + 2]byte
	copy(msg[:], eventIDLabel)
	copy(msg[16:], siteID[:])
	copy(msg[32:], plid[:])
	binary.LittleEndian.PutUint32(msg[48:], seq)
	binary.LittleEndian.PutUint16(msg[52:], index)
	sum := sha256.Sum256(msg[:])
	return binary.LittleEndian.Uint64(sum[:8])
}
