import GlossStore
