"""WebDAV at ``/dav/`` (SPEC §7), on WsgiDAV: ``auth`` (basic auth → Principal), ``provider`` and
``resources`` (the tree, with every reach decision asked of ``files.rights``), ``properties`` and ``locks``
(dead properties and locks in the database), ``app`` (the WsgiDAV app and the ``/dav`` dispatcher)."""
