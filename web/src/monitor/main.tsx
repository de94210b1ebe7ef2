/** Entry of /monitor: the read-only view of a class for a TA or an observer. */
import chat from '../lib/components/chat/messages.ts';
import consoleMessages from '../console/messages.ts';
import { mountPage } from '../lib/mount.tsx';
import { MonitorApp } from './Monitor.tsx';
import messages from './messages.ts';
import '../console/console.css';
import '../console/panels.css';
import './monitor.css';

mountPage(<MonitorApp />, chat, consoleMessages, messages);
