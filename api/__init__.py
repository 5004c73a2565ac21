"""The REST API at ``/api/v1``, over ``files.services`` and the one rights function: ``me`` (who the caller is),
``nodes`` (workspaces, finding and listing nodes, folders, rename and move, delete) and ``content`` (a file's
bytes, up and down), the routers ``api.api`` mounts; ``schemas`` (what they take and answer) and ``access``
(the rules below, applied in one place).

Access rules, asked of ``files.rights`` and never decided here:

- a node the principal cannot even traverse does not exist: 404, the same answer as for a uuid that was
  never used, so the API never hints that a node is there;
- a node that exists for the principal but may not be changed (read-only grant or scope, a scoped node
  itself, a workspace root) is 403; content that may not be read (a ``w``-only scope) is 403 too;
- a request that conflicts with what the node is (children of a file, content of a folder, a name taken)
  is 409; a name the tree refuses (empty, ``..``, slashes, control characters) is 400;
- a write to what a WebDAV lock holds (an editor has the file open) is 423: the API cannot present a lock
  token, so every lock holds against it, whoever owns it (``files.locks.write_guard.refuse_if_locked``).
"""
