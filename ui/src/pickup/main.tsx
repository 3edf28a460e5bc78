// Entry point of the pickup board (`/pickup/`).

import { render } from 'preact';
import { NodeClient } from '../api/node-client';
import { SellingApi } from '../api/selling-api';
import '../styles.css';
import '../selling.css';
import { Board } from './board';

render(<Board api={new SellingApi(new NodeClient(''))} />, document.getElementById('app')!);
