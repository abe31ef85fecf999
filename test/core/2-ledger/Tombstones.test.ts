import { describe, expect, it } from "vitest"
import type { Email } from "../../../core/1-events/Email.js"
import type { AudienceKey } from "../../../core/1-events/Ids.js"
import type { InboxEntry } from "../../../core/2-ledger/Inbox.js"
import type { MembershipEvent } from "../../../core/1-events/MembershipChange.js"
import { withoutBuried } from "../../../core/2-ledger/Tombstones.js"

const change = (audience: string, email: string, timestamp: number, messageId: string): MembershipEvent =>
  ({ audience: audience as AudienceKey, audienceClass: "audience", user: email, emails: [email as Email], member: true, timestamp, messageId })

describe("withoutBuried", () => {
  const entry: InboxEntry = {
    receivedAt: 500,
    memberships: [
      change("gone", "a@example.com", 99, "m1"),
      change("gone", "b@example.com", 99, "m1"),
      change("gone", "c@example.com", 100, "m2"),
      change("kept", "d@example.com", 1, "m3"),
      { audience: "gone" as AudienceKey, audienceClass: "audience", user: "u9", member: true, timestamp: 50, messageId: "m4", emails: [] }
    ]
  }

  it("drops what came before the removal and counts the events (not the emails) it drops", () => {
    const { entry: kept, ignored } = withoutBuried(entry, new Map([["gone", 100]]))
    expect(kept.memberships.flatMap((m) => m.emails)).toEqual(["c@example.com", "d@example.com"])
    expect(kept.memberships.filter((m) => m.emails.length === 0)).toEqual([])
    expect(ignored).toEqual(new Map([["gone", 2]]))
  })

  it("gives back the same entry when nothing is buried", () => {
    expect(withoutBuried(entry, new Map([["gone", 10]])).entry).toBe(entry)
    expect(withoutBuried(entry, new Map()).entry).toBe(entry)
  })
})
