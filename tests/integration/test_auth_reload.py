#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Credentials of live allocations across a reload, through real requests.

turnpiked checks the requests on an allocation made by a TURN REST user
against the key the allocation was made with, without deriving it again
(struct auth_known in src/auth.h).  That must not outlive the secret: once
a SIGHUP has replaced the secret, CreatePermission, ChannelBind and
Refresh on that allocation must fail with 401, and a reload that keeps
the secret must change nothing.  A static user removed by a reload loses
its allocation's requests the same way.

Not covered here: REST usernames expiring (they are minutes long at
least; tests/unit/test_turn.c has the clock to do it).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tp  # noqa: E402
import turnclient as tc  # noqa: E402
from turncase import SECRET, TurnCase, turn_conf  # noqa: E402


class ReloadCredentials(TurnCase):
    CONF = turn_conf(allowed_peers=["127.0.0.1"])

    def rest_allocated(self, user_id):
        c = self.rest_client(user_id=user_id)
        ans = c.allocate()
        self.assert_success(ans, tc.ALLOCATE)
        c.allocation = ans
        self.assert_success(c.create_permission("127.0.0.1"),
                            tc.CREATE_PERMISSION)
        return c

    def test_secret_kept(self):
        """A reload with the same secret: the allocation goes on."""
        c = self.rest_allocated("kept")
        self.addCleanup(self.reload, self.CONF)
        self.reload(turn_conf(allowed_peers=["127.0.0.1"],
                              secrets=["rest-secret-new", SECRET]))
        self.assert_success(c.create_permission("127.0.0.1"),
                            tc.CREATE_PERMISSION)
        self.assert_success(c.channel_bind(0x4000, ("127.0.0.1", 9)),
                            tc.CHANNEL_BIND)
        self.assert_success(c.refresh(lifetime=0), tc.REFRESH)

    def test_secret_replaced(self):
        """A reload that replaces the secret: every request on the
        allocation is refused with 401, while a client of the new secret
        allocates."""
        c = self.rest_allocated("replaced")
        self.addCleanup(self.reload, self.CONF)
        self.reload(turn_conf(allowed_peers=["127.0.0.1"],
                              secrets=["rest-secret-new"]))
        self.assert_error(c.create_permission("127.0.0.1"),
                          tc.CREATE_PERMISSION, 401, signed=False)
        self.assert_error(c.channel_bind(0x4000, ("127.0.0.1", 9)),
                          tc.CHANNEL_BIND, 401, signed=False)
        self.assert_error(c.refresh(), tc.REFRESH, 401, signed=False)
        fresh = self.rest_client(user_id="fresh", secret="rest-secret-new")
        self.assert_success(fresh.allocate(), tc.ALLOCATE)

    def test_static_user_removed(self):
        """A static user a reload removes: 401 on the allocation."""
        c = self.allocated("bob")
        self.addCleanup(self.reload, self.CONF)
        self.reload(turn_conf(allowed_peers=["127.0.0.1"],
                              users=["alice:alice-pw"]))
        self.assert_error(c.refresh(), tc.REFRESH, 401, signed=False)


if __name__ == "__main__":
    tp.main()
