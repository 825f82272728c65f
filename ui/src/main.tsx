// The Jobs page that jobmonitor serves at /.
import { createRoot } from "react-dom/client";

import { App } from "./App";
import { pageConfig } from "./config";
import "./styles.css";

const root = document.getElementById("app");
if (root !== null) createRoot(root).render(<App config={pageConfig()} />);
