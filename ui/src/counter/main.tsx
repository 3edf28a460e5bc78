// Entry point of the counter (`/counter/`, a staff tablet).

import { render } from 'preact';
import '../styles.css';
import '../selling.css';
import { CounterPage } from './counter-page';

render(<CounterPage />, document.getElementById('app')!);
