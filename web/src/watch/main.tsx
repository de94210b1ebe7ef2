/** Entry of /watch/<app>/<name>: the student's class page. */
import chat from '../lib/components/chat/messages.ts';
import { mountPage } from '../lib/mount.tsx';
import messages from './messages.ts';
import { WatchPage } from './WatchPage.tsx';
import './watch.css';
import './panel.css';

mountPage(<WatchPage />, messages, chat);
