// Entry point of the receipt page (`/r/<receipt id>`).

import { render } from 'preact';
import { NodeClient } from '../api/node-client';
import { SellingApi } from '../api/selling-api';
import '../styles.css';
import '../selling.css';
import { receiptIdFrom } from './receipt-id';
import { ReceiptPage } from './receipt-page';

render(<ReceiptPage api={new SellingApi(new NodeClient(''))} receiptId={receiptIdFrom(window.location)} />, document.getElementById('app')!);
