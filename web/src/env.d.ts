/** Vite's client types: `import './x.css'` and `import.meta.env`. */
/// <reference types="vite/client" />
