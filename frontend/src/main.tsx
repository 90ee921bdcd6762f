import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { App } from './components/App'
import { loadConfig } from './lib/config'
import './index.css'

const root = document.getElementById('root')
if (!root) throw new Error('#root is missing from index.html')

void loadConfig().then((config) => {
  createRoot(root).render(
    <StrictMode>
      <App config={config} />
    </StrictMode>,
  )
})
