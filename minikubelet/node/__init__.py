"""Pod workers: `sync` decides (pure), the executor acts; crash-loop and image-pull back-off."""
