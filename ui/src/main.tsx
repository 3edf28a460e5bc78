// Entry point: renders the booth screen (which finds the node first).
import { render } from 'preact';
import { App } from './app';
import './styles.css';
import './selling.css';

render(<App />, document.getElementById('app')!);
