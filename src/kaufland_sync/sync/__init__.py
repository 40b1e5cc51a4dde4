"""The sync engine, in connector vocabulary: bindings, binder, mappers, importers, exporters,
cursors. It reads the back office through ``backoffice`` and talks to Kaufland through
``sellerapi``; ``mappers`` are the only place where our words become Kaufland's."""
