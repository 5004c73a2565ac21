"""WebDAV at ``/dav/``, on WsgiDAV: ``auth`` (basic auth → Principal), ``provider`` and ``resources`` (the tree,
with every reach decision asked of ``files.rights``), ``tree_changes`` (DELETE, MOVE, COPY), ``properties``
(dead properties in the database), ``propfind`` and ``live_properties`` (listings written from rows),
``xml_body`` (bounded request bodies), ``errors`` (error pages, and which errors are logged) and ``app`` (the
WsgiDAV app and the ``/dav`` dispatcher). Locks are kept in the database by ``files.locks``."""
