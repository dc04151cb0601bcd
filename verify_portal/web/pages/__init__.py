"""The portal's pages (server-rendered, Chinese by default with an English switch)."""
