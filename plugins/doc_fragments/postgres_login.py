# -*- coding: utf-8 -*-
# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type


class ModuleDocFragment(object):
    # Login options shared by the collection's PostgreSQL modules. The names and aliases follow
    # community.postgresql (which deprecates the aliases login, host, unix_socket and port for its
    # 5.0.0; they are accepted here so its login blocks can be reused); unset options fall back to
    # the libpq environment variables.
    DOCUMENTATION = r'''
options:
  login_user:
    description:
      - The PostgreSQL role to log in as.
      - If not set, the E(PGUSER) environment variable of the host the module runs on, then V(postgres).
    type: str
    aliases: [ login ]
  login_password:
    description:
      - The password of O(login_user).
      - If not set, the E(PGPASSWORD) environment variable; if that is unset too, libpq may still use
        a C(~/.pgpass) file.
      - Never logged (C(no_log)).
    type: str
  login_host:
    description:
      - Host name or IP address of the PostgreSQL server.
      - If not set, the E(PGHOST) environment variable, then O(login_unix_socket), then the libpq default
        (a local Unix socket).
    type: str
    aliases: [ host ]
  login_unix_socket:
    description:
      - Directory of the server's Unix domain socket, used when O(login_host) is not set.
    type: str
    aliases: [ unix_socket ]
  login_port:
    description:
      - TCP port of the server.
      - If not set, the E(PGPORT) environment variable, then V(5432).
    type: int
    aliases: [ port ]
  login_db:
    description:
      - The database to connect to.
      - If not set, the E(PGDATABASE) environment variable, then V(postgres).
    type: str
    aliases: [ db ]
  ssl_mode:
    description:
      - Whether and with what priority an SSL connection is negotiated, see
        U(https://www.postgresql.org/docs/current/libpq-ssl.html).
      - If not set, the E(PGSSLMODE) environment variable, then V(prefer) (the libpq default).
    type: str
    choices: [ allow, disable, prefer, require, verify-ca, verify-full ]
  ca_cert:
    description:
      - File with the certificate authority certificate(s) the server's certificate must be signed by.
      - If not set, the E(PGSSLROOTCERT) environment variable.
    type: str
    aliases: [ ssl_rootcert ]
  ssl_cert:
    description:
      - File with the client SSL certificate.
    type: path
  ssl_key:
    description:
      - File with the secret key of the client certificate.
    type: path
  connect_params:
    description:
      - Further libpq connection parameters, for example C(target_session_attrs) or C(options).
      - They take precedence over the options above.
    type: dict
    default: {}
  connect_timeout:
    description:
      - Seconds to wait for the connection to be established.
    type: int
    default: 10
notes:
  - Requires the Python package C(psycopg) (version 3) on the host the module runs on.
requirements:
  - psycopg >= 3.1
'''
